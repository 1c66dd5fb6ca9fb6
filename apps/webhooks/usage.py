"""Usage counter owned by webhooks: endpoints, counted in the organization's schema."""

from apps.billing.models import Entitlement
from apps.billing.usage import usage_counter
from apps.webhooks.selectors import webhook_endpoint_count


@usage_counter(Entitlement.WEBHOOK_ENDPOINTS)
def webhook_endpoints_used(organization) -> int:
    return webhook_endpoint_count()
