"""The invitation email a new team member gets: who invited them where, and how to get in."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.accounts.models import Membership
from apps.onboarding.views import public_base_url, tenant_base_url

logger = logging.getLogger(__name__)


def invitation_send(*, request: HttpRequest, membership: Membership) -> bool:
    """Mail the invitation; False when it could not be sent (the caller tells the admin, who can retry).

    Someone new to the platform has no password yet: the mail carries a one-time link to choose one
    (the password reset link, on the platform's own host). Someone who has an account just signs in.
    """
    user, organization = membership.user, membership.organization
    context = {
        "email": user.email,
        "inviter": getattr(request.user, "email", "") or "A colleague",
        "organization": organization.name,
        "role": membership.get_role_display(),
        "dashboard_url": tenant_base_url(request, organization) + reverse("dashboard:overview"),
        "set_password_url": "",
    }
    if not user.has_usable_password():
        path = reverse(
            "onboarding:password-reset-confirm",
            urlconf=settings.PUBLIC_SCHEMA_URLCONF,
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        context["set_password_url"] = public_base_url(request) + path
    subject = render_to_string("onboarding/invitation_subject.txt", context).strip()
    body = render_to_string("onboarding/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [user.email], fail_silently=False)
    except Exception:  # any backend's failure (provider refused, SMTP down): reported, not raised
        logger.exception("invitation mail to %s for %s failed", user.email, organization.slug)
        return False
    return True
