"""Websocket of the dashboard (`/ws/dashboard/` on the organization's host): live conversations for members."""

from __future__ import annotations

from channels.db import database_sync_to_async
from django_tenants.utils import get_public_schema_name, schema_context

from apps.accounts.models import Membership
from apps.core.consumers import DirectDispatchJsonConsumer
from apps.dashboard.realtime import dashboard_group

CLOSE_NOT_LOGGED_IN = 4401
CLOSE_NOT_A_MEMBER = 4403


@database_sync_to_async
def _is_member(user_id: int, organization_id: int) -> bool:
    # Memberships live in the public schema; entered here, in the same sync call as the query.
    with schema_context(get_public_schema_name()):
        return Membership.objects.filter(user_id=user_id, organization_id=organization_id).exists()


class DashboardConsumer(DirectDispatchJsonConsumer):
    """Server → client only: `{"type": "conversation.started"|"conversation.message", "conversation", "message"}`."""

    group: str | None = None

    async def connect(self) -> None:
        # Accept first so the close code reaches the browser (closing before accept is an HTTP 403).
        await self.accept()
        user = self.scope.get("user")
        organization = self.scope["organization"]
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_NOT_LOGGED_IN)
            return
        if not await _is_member(user.pk, organization.id):
            await self.close(code=CLOSE_NOT_A_MEMBER)
            return
        self.group = dashboard_group(self.scope["schema_name"])
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "ready"})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        pass  # nothing to say: replies go through the page's forms (roles checked there)

    async def dashboard_event(self, event: dict) -> None:
        await self.send_json(
            {"type": event["event"], "conversation": event["conversation"], "message": event["message"]}
        )
