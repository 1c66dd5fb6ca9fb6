"""Background jobs of listings: (re-)embedding after a change is committed."""

from __future__ import annotations

import dramatiq

from apps.properties.services import property_embeddings_refresh


# Retries cover a provider that is briefly down (OpenAI); the hashing default never fails.
@dramatiq.actor(max_retries=5, time_limit=5 * 60 * 1000)
def property_embed(property_ids: list[int]) -> None:
    """Embed these listings of the sender's schema when their text changed since the last embedding."""
    property_embeddings_refresh(property_ids=property_ids)
