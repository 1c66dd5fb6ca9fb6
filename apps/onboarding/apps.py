"""App config of onboarding: signup, login and the five-step wizard on the public host."""

from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "apps.onboarding"
    label = "onboarding"
