"""Bridge from a conversation to the lead pipeline: what the visitor said becomes (or updates) its lead."""

from __future__ import annotations

from apps.chat.extraction import LeadDetails, lead_details_extract
from apps.chat.models import Channel, Conversation

SOURCE_BY_CHANNEL = {Channel.WEB: "chat", Channel.FACEBOOK: "facebook", Channel.INSTAGRAM: "instagram"}


def lead_capture_from_chat(*, conversation: Conversation, details: LeadDetails, history: list[str]):
    """Create or merge the conversation's lead, with the criteria stated earlier in the conversation too."""
    from apps.leads.services import lead_capture

    attributes: dict = {}
    for text in history:  # earlier messages first, so later statements win
        attributes.update(lead_details_extract(text).attributes)
    attributes.update(details.attributes)
    lead, _ = lead_capture(
        name=details.name,
        email=details.email or None,
        phone=details.phone or None,
        source=SOURCE_BY_CHANNEL.get(conversation.channel, "chat"),
        attributes=attributes,
        conversation_id=conversation.pk,
    )
    from apps.chat.services import conversation_lead_link

    conversation_lead_link(conversation=conversation, lead=lead)
    return lead
