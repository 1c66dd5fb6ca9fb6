"""Usage counter owned by listings: the plan's `listings` entitlement."""

from apps.billing.models import Entitlement
from apps.billing.usage import usage_counter
from apps.properties.models import Property


@usage_counter(Entitlement.LISTINGS)
def listings_used(organization) -> int:
    # Every listing row counts, active or not: an inactive listing keeps its row and embedding and can
    # be switched back on at any time, so deactivating must not make room under the plan's limit.
    return Property.objects.count()
