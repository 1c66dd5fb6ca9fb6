"""Where each new agency's owner is in the five-step wizard (public schema), so they resume where they left."""

from __future__ import annotations

from django.conf import settings
from django.db import models

STEPS = 5


class OnboardingState(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="onboarding")
    # Created at step 1; null until then.
    organization = models.ForeignKey(
        "tenants.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The last step saved (0: none yet, 5: finished).
    completed_step = models.PositiveSmallIntegerField(default=0)
    # What a step chose besides the organization's own fields (plan choice, import result).
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user} at step {self.completed_step}"

    @property
    def next_step(self) -> int | None:
        return None if self.completed_step >= STEPS else self.completed_step + 1
