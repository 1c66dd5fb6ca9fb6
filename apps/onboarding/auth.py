"""Email + password login shared by the public host and each organization's host, with failed tries throttled."""

from __future__ import annotations

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import HttpRequest

from apps.accounts.models import User
from apps.core.ratelimit import counter_increment, counter_value, rate_limit_hit, request_client_ip


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"login-fail:{kind}:{digest}"


def login_blocked(request: HttpRequest, email: str) -> bool:
    """Too many failed logins for this address (any IP) or from this IP (any address) in the window."""
    limit = settings.LOGIN_FAILURE_LIMIT
    ip = request_client_ip(request)
    return counter_value(_key("email", email)) >= limit or counter_value(_key("ip", ip)) >= limit * 4


def login_failure_record(request: HttpRequest, email: str) -> None:
    # Counts expire a window after the first failure: a fixed window, enough against guessing.
    for key in (_key("email", email), _key("ip", request_client_ip(request))):
        counter_increment(key, settings.LOGIN_FAILURE_WINDOW)


def login_failures_clear(request: HttpRequest, email: str) -> None:
    cache.delete(_key("email", email))


class LoginForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, request: HttpRequest, *args, **kwargs):
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        email = (cleaned.get("email") or "").strip().lower()
        password = cleaned.get("password")
        if not email or not password:
            return cleaned
        if login_blocked(self.request, email):
            raise forms.ValidationError(
                "Too many failed attempts. Wait a few minutes and try again.", code="rate_limited"
            )
        user = authenticate(self.request, email=email, password=password)
        if user is None:
            login_failure_record(self.request, email)
            raise forms.ValidationError("Wrong email or password.", code="invalid_login")
        login_failures_clear(self.request, email)
        self.user = user
        return cleaned


class ResetForm(PasswordResetForm):
    """Django's reset form, also for people invited to a team: they have no password until they set one here.

    Throttled: past PASSWORD_RESET_RATE_IP the form says when to try again; past PASSWORD_RESET_RATE_EMAIL
    for one address no more mail goes to it, with the same answer as always (nobody learns whether the
    address has an account, and nobody can flood its inbox).
    """

    def __init__(self, request: HttpRequest, *args, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        wait = rate_limit_hit(f"password-reset:ip:{request_client_ip(self.request)}", settings.PASSWORD_RESET_RATE_IP)
        if wait:
            minutes = max(1, round(wait / 60))
            raise forms.ValidationError(
                f"Too many reset requests from your network. Try again in {minutes} minute{'s' * (minutes != 1)}.",
                code="rate_limited",
            )
        return cleaned

    def get_users(self, email: str):
        digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
        if rate_limit_hit(f"password-reset:email:{digest}", settings.PASSWORD_RESET_RATE_EMAIL):
            return User.objects.none()
        return User.objects.filter(email__iexact=email.strip(), is_active=True)
