"""Writes of onboarding: sign-up, each wizard step (through the domains' services), the one-time dashboard link."""

from __future__ import annotations

import secrets
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django_tenants.utils import tenant_context

from apps.accounts.models import Membership, Role, User
from apps.accounts.services import email_normalize, user_get_or_create
from apps.chat.llm import StreamStats, TurnContext, chat_model
from apps.core.errors import ApplicationError, ErrorCode
from apps.onboarding.models import OnboardingState
from apps.tenants.models import Organization
from apps.tenants.services import organization_create, organization_update

LOGIN_LINK_SALT = "onboarding.dashboard-login"


def user_sign_up(*, email: str, password: str) -> User:
    email = email_normalize(email)
    if User.objects.filter(email=email).exists():
        raise ApplicationError(ErrorCode.CONFLICT, "This email is already registered: log in instead.", attr="email")
    user, _ = user_get_or_create(email=email, password=password)
    return user


def onboarding_state_get(*, user: User) -> OnboardingState:
    state, _ = OnboardingState.objects.select_related("organization").get_or_create(user=user)
    return state


def _advance(state: OnboardingState, step: int, **data: Any) -> OnboardingState:
    # Going back and saving an earlier step keeps the later steps done: resume goes to the furthest.
    state.completed_step = max(state.completed_step, step)
    state.data.update(data)
    state.save(update_fields=["completed_step", "data", "updated_at"])
    return state


def onboarding_brand_save(
    *, state: OnboardingState, name: str, slug: str, primary_color: str, logo_url: str
) -> Organization:
    """Step 1: create the organization (schema provisioned from the template) or update its brand."""
    if state.organization is None:
        organization = organization_create(
            slug=slug, name=name, owner_email=state.user.email, primary_color=primary_color, logo_url=logo_url
        )
        state.organization = organization
        state.save(update_fields=["organization", "updated_at"])
    else:
        organization = organization_update(
            organization=state.organization, name=name, primary_color=primary_color, logo_url=logo_url
        )
    _advance(state, 1)
    return organization


@transaction.atomic
def onboarding_persona_save(*, state: OnboardingState, **persona: str) -> Organization:
    """Step 2: the assistant's name, tone, instructions and greeting."""
    organization = organization_update(organization=state.organization, **persona)
    _advance(state, 2)
    return organization


def onboarding_channels_save(
    *, state: OnboardingState, allowed_origins: list[str], platform: str = "", page_id: str = "", access_token: str = ""
) -> Organization:
    """Step 3: the widget's allowed origins; a Facebook/Instagram page when one is given (else skipped)."""
    from apps.social.services import social_account_connect

    organization = state.organization
    connected = ""
    if page_id or access_token:
        # First: it fails on a bad page or token (or no encryption key) before this step has written
        # anything, and it talks to Meta outside any transaction (social_account_connect).
        with tenant_context(organization):
            social_account_connect(
                organization=organization,
                platform=platform,
                page_id=page_id,
                access_token=access_token,
                user=state.user,
            )
        connected = platform
    with transaction.atomic():
        organization = organization_update(organization=organization, allowed_origins=allowed_origins)
        _advance(state, 3, channel=connected)
    return organization


def onboarding_plan_save(*, state: OnboardingState, plan: str) -> OnboardingState:
    """Step 4: remember the choice; Checkout itself is billing's (the view starts it)."""
    return _advance(state, 4, plan=plan)


def onboarding_import_start(*, state: OnboardingState, content: bytes | str | None, filename: str = "") -> str:
    """Step 5: parse the uploaded file (or the sample catalog) now, import it in the background; the job's id.

    A file that does not parse fails here, at once; the job runs in the organization's schema.
    """
    from apps.core.jobs import enqueue_on_commit
    from apps.core.progress import progress_start
    from apps.properties.actors import KIND_IMPORT, import_rows_jsonable, property_import_run
    from apps.properties.services import SAMPLE_CATALOG, property_rows_parse

    if content is None:
        content, filename = SAMPLE_CATALOG.read_bytes(), SAMPLE_CATALOG.name
    rows = property_rows_parse(content=content, filename=filename)
    with tenant_context(state.organization):
        job_id = progress_start(kind=KIND_IMPORT, total=len(rows))
        enqueue_on_commit(property_import_run, job_id, import_rows_jsonable(rows))
    return job_id


def onboarding_import_progress(*, state: OnboardingState, job_id: str) -> dict[str, Any] | None:
    """The organization's import job (None if unknown there); once it has finished, step 5 is done with its summary."""
    from apps.core.progress import progress_get

    with tenant_context(state.organization):
        job = progress_get(job_id)
    finished = job is not None and job["finished"] and "error" not in job["result"]
    if finished and (state.completed_step < 5 or state.data.get("imported") != job["result"]):
        _advance(state, 5, imported=job["result"])
    return job


def onboarding_skip_import(*, state: OnboardingState) -> OnboardingState:
    return _advance(state, 5, imported=None)


def persona_preview(*, organization: Organization, persona: dict[str, str], question: str) -> str:
    """What the assistant would answer `question` with this persona (the configured model, or the offline one)."""
    context = TurnContext(
        organization_name=organization.name,
        persona_name=persona.get("persona_name") or organization.persona_name,
        persona_tone=persona.get("persona_tone") or organization.persona_tone,
        persona_instructions=persona.get("persona_instructions", ""),
        greeting=persona.get("greeting") or organization.greeting,
        user_text=question,
        history=[],
        # The preview shows the persona's voice; listings come at step 5, so none are cited here.
        listings=[],
        criteria={},
        has_contact=False,
        is_greeting_only=not question.strip() or question.strip().lower() in {"hi", "hello", "hey"},
    )

    async def collect() -> str:
        parts = [piece async for piece in chat_model().stream(context, StreamStats())]
        return "".join(parts)

    return async_to_sync(collect)()


def dashboard_login_token(*, user: User, organization: Organization) -> str:
    """A signed, short-lived, single-use token that logs `user` into the organization's dashboard."""
    if not Membership.objects.filter(user=user, organization=organization, role=Role.OWNER).exists():
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only the owner gets a login link.")
    payload = {"u": user.pk, "o": organization.pk, "n": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt=LOGIN_LINK_SALT)


def dashboard_login_redeem(*, token: str, organization: Organization) -> User:
    """The user of a valid, unused token for this organization; anything else is an ApplicationError."""
    try:
        payload = signing.loads(token, salt=LOGIN_LINK_SALT, max_age=settings.ONBOARDING_LOGIN_LINK_MAX_AGE)
    except signing.BadSignature:
        raise ApplicationError(ErrorCode.INVALID, "This login link is invalid or has expired.", attr="token") from None
    if payload.get("o") != organization.pk:
        raise ApplicationError(ErrorCode.INVALID, "This login link is for another organization.", attr="token")
    # Single use: the first redeem claims the nonce for as long as the link could live.
    if not cache.add(f"login-link:{payload['n']}", 1, settings.ONBOARDING_LOGIN_LINK_MAX_AGE + 5):
        raise ApplicationError(ErrorCode.INVALID, "This login link was used already.", attr="token")
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None or not Membership.objects.filter(user=user, organization=organization).exists():
        raise ApplicationError(ErrorCode.INVALID, "This login link is no longer valid.", attr="token")
    return user
