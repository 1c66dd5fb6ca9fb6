"""Usage counter owned by chat: AI replies this calendar month (UTC)."""

from django.utils import timezone

from apps.billing.models import Entitlement
from apps.billing.usage import usage_counter


@usage_counter(Entitlement.AI_REPLIES)
def ai_replies_this_month(organization) -> int:
    from apps.chat.models import Message, Role

    start = timezone.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return Message.objects.filter(role=Role.ASSISTANT, created_at__gte=start).count()
