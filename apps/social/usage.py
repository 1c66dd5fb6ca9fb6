"""Usage counter owned by the Meta channels: the plan's `channels` entitlement counts connected accounts."""

from apps.billing.models import Entitlement
from apps.billing.usage import usage_counter


@usage_counter(Entitlement.CHANNELS)
def channels_used(organization) -> int:
    # The website chat comes with every plan; a channel is a connected Messenger page or Instagram
    # account. A disconnected one (by a member, or a revoked token) frees its place.
    from apps.social.models import AccountStatus, SocialAccount

    return SocialAccount.objects.filter(status=AccountStatus.CONNECTED).count()
