"""Reads of connected accounts and threads (tenant schema)."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.social.models import AccountStatus, DisconnectReason, SocialAccount, SocialThread


def social_account_list() -> QuerySet[SocialAccount]:
    return SocialAccount.objects.select_related("connected_by").order_by("platform", "name", "id")


def social_account_get(*, pk: int) -> SocialAccount | None:
    return SocialAccount.objects.filter(pk=pk).first()


def social_account_alerts() -> list[str]:
    """What the dashboard shows about accounts that stopped working (a revoked token, mostly)."""
    accounts = SocialAccount.objects.filter(
        status=AccountStatus.DISCONNECTED, disconnect_reason=DisconnectReason.TOKEN_REVOKED
    ).order_by("-disconnected_at", "-id")
    return [
        f"{account.get_platform_display()} {account.name or account.external_id}: {account.status_detail}"
        for account in accounts
    ]


def social_thread_for_conversation(*, channel: str, visitor_id: str) -> SocialThread | None:
    """The thread a Messenger/Instagram conversation belongs to (scoped ids are unique per account)."""
    return (
        SocialThread.objects.select_related("account")
        .filter(account__platform=channel, visitor_id=visitor_id)
        .order_by("-last_inbound_at", "-id")
        .first()
    )
