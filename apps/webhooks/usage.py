"""Usage counter owned by webhooks: endpoints, counted in the organization's schema."""

from django_tenants.utils import schema_context

from apps.billing.models import Entitlement
from apps.billing.usage import usage_counter
from apps.webhooks.selectors import webhook_endpoint_count


@usage_counter(Entitlement.WEBHOOK_ENDPOINTS)
def webhook_endpoints_used(organization) -> int:
    with schema_context(organization.schema_name):
        return webhook_endpoint_count()
