"""Usage counter owned by email follow-up: campaigns, counted in the organization's schema."""

from apps.billing.models import Entitlement
from apps.billing.usage import usage_counter
from apps.campaigns.selectors import campaign_count


@usage_counter(Entitlement.CAMPAIGNS)
def campaigns_used(organization) -> int:
    return campaign_count()
