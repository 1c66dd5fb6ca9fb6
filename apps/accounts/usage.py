"""Usage counters owned by accounts: seats are memberships."""

from apps.accounts.selectors import membership_count
from apps.billing.models import Entitlement
from apps.billing.usage import usage_counter


@usage_counter(Entitlement.SEATS)
def seats_used(organization) -> int:
    return membership_count(organization=organization)
