"""The default welcome sequence (days 0, 3, 7, 14), written in the persona's voice: one wording per tone."""

from __future__ import annotations

from dataclasses import dataclass

# Words of an organization's persona_tone that pick a wording; anything else reads as friendly.
CASUAL_WORDS = ("casual", "playful", "fun", "relaxed", "laid-back", "cheerful", "enthusiastic", "upbeat")
FORMAL_WORDS = ("formal", "professional", "polite", "serious", "courteous", "business", "corporate")

# Shared pieces of the step bodies (Django template syntax; see apps.campaigns.content for the context).
LISTINGS = """{% for listing in listings %}
- {{ listing.title }}: {{ listing.price }}{% if listing.place %}, {{ listing.place }}{% endif %}{% if listing.url %}
  {{ listing.url }}{% endif %}{% endfor %}"""
SIGNATURE = """{{ organization.persona_name }}
{{ organization.name }}"""


@dataclass(frozen=True)
class StepText:
    delay_days: int
    subject: str
    body: str


def tone_of(persona_tone: str) -> str:
    """ "casual", "formal" or "friendly" for an organization's free-text persona tone."""
    words = (persona_tone or "").lower()
    if any(word in words for word in CASUAL_WORDS):
        return "casual"
    if any(word in words for word in FORMAL_WORDS):
        return "formal"
    return "friendly"


_FRIENDLY = [
    StepText(
        0,
        "Welcome to {{ organization.name }}, {{ lead.first_name|default:'there' }}!",
        """Hi {{ lead.first_name|default:"there" }},

I'm {{ organization.persona_name }} from {{ organization.name }}. Thanks for getting in touch! \
{% if lead.criteria %}You're looking for {{ lead.criteria }}, and I've{% else %}I've{% endif %} \
started looking for homes that fit.
{% if listings %}
Here are a few to start with:
"""
        + LISTINGS
        + """
{% endif %}
Tell me more about what you have in mind any time: {{ organization.chat_url }}

"""
        + SIGNATURE,
    ),
    StepText(
        3,
        "A few homes you might like, {{ lead.first_name|default:'there' }}",
        """Hi {{ lead.first_name|default:"there" }},

I kept an eye on our listings for you{% if lead.criteria %} ({{ lead.criteria }}){% endif %}.\
{% if listings %} These look like a good match:
"""
        + LISTINGS
        + """
{% else %} Nothing new yet, but I'll keep looking.
{% endif %}
Would you like to see one of them? Just let me know: {{ organization.chat_url }}

"""
        + SIGNATURE,
    ),
    StepText(
        7,
        "Ready to visit a home, {{ lead.first_name|default:'there' }}?",
        """Hi {{ lead.first_name|default:"there" }},

Seeing a place in person tells you more than any photo. I'd be happy to set up a viewing for you.
{% if listings %}
These are still available:
"""
        + LISTINGS
        + """
{% endif %}
Pick a home and a time that suits you: {{ organization.chat_url }}

"""
        + SIGNATURE,
    ),
    StepText(
        14,
        "Still looking, {{ lead.first_name|default:'there' }}?",
        """Hi {{ lead.first_name|default:"there" }},

It's been two weeks since you reached out to {{ organization.name }}. If your plans changed, no problem: \
this is my last note. If you're still looking, I'm here to help.
{% if listings %}
A few more ideas:
"""
        + LISTINGS
        + """
{% endif %}
Talk soon: {{ organization.chat_url }}

"""
        + SIGNATURE,
    ),
]

_FORMAL = [
    StepText(
        0,
        "Thank you for contacting {{ organization.name }}",
        """Dear {{ lead.name|default:"client" }},

Thank you for contacting {{ organization.name }}. My name is {{ organization.persona_name }}, and I will \
assist you in your search{% if lead.criteria %} for {{ lead.criteria }}{% endif %}.
{% if listings %}
Please find below a selection of properties that match your criteria:
"""
        + LISTINGS
        + """
{% endif %}
Should you wish to share further details, you may reach me at {{ organization.chat_url }}

Kind regards,
"""
        + SIGNATURE,
    ),
    StepText(
        3,
        "Properties selected for you",
        """Dear {{ lead.name|default:"client" }},

Following your enquiry{% if lead.criteria %} regarding {{ lead.criteria }}{% endif %}, \
{% if listings %}I have selected the following properties for your consideration:
"""
        + LISTINGS
        + """
{% else %}I continue to review our portfolio on your behalf.
{% endif %}
I would be pleased to provide further information on any of them: {{ organization.chat_url }}

Kind regards,
"""
        + SIGNATURE,
    ),
    StepText(
        7,
        "Arranging a viewing",
        """Dear {{ lead.name|default:"client" }},

A viewing is the best way to assess a property. I would be glad to arrange one at your convenience.
{% if listings %}
The following properties remain available:
"""
        + LISTINGS
        + """
{% endif %}
Please let me know a property and a time that suit you: {{ organization.chat_url }}

Kind regards,
"""
        + SIGNATURE,
    ),
    StepText(
        14,
        "Your property search with {{ organization.name }}",
        """Dear {{ lead.name|default:"client" }},

Two weeks have passed since your enquiry. Should your plans have changed, this will be my final message. \
Should you still be searching, I remain at your disposal.
{% if listings %}
Further properties that may interest you:
"""
        + LISTINGS
        + """
{% endif %}
You may reach me at {{ organization.chat_url }}

Kind regards,
"""
        + SIGNATURE,
    ),
]

_CASUAL = [
    StepText(
        0,
        "Hey {{ lead.first_name|default:'there' }}, let's find your place!",
        """Hey {{ lead.first_name|default:"there" }}!

{{ organization.persona_name }} here, from {{ organization.name }}. Thanks for saying hi! \
{% if lead.criteria %}{{ lead.criteria|capfirst }}? Love it.{% endif %}
{% if listings %}
Here's what caught my eye:
"""
        + LISTINGS
        + """
{% endif %}
Tell me what else you'd love in a home: {{ organization.chat_url }}

Cheers,
"""
        + SIGNATURE,
    ),
    StepText(
        3,
        "Fresh picks for you, {{ lead.first_name|default:'friend' }}",
        """Hey {{ lead.first_name|default:"there" }}!

{% if listings %}I went digging and found these:
"""
        + LISTINGS
        + """
{% else %}Nothing new just yet, but I'm on it!
{% endif %}
Any of them your style? Let me know: {{ organization.chat_url }}

Cheers,
"""
        + SIGNATURE,
    ),
    StepText(
        7,
        "Want to take a look in person?",
        """Hey {{ lead.first_name|default:"there" }}!

Photos only go so far. Want to walk through a place? I can set up a viewing.
{% if listings %}
Still up for grabs:
"""
        + LISTINGS
        + """
{% endif %}
Just pick one: {{ organization.chat_url }}

Cheers,
"""
        + SIGNATURE,
    ),
    StepText(
        14,
        "Still on the hunt, {{ lead.first_name|default:'friend' }}?",
        """Hey {{ lead.first_name|default:"there" }}!

It's been a couple of weeks. If you've found your place, congrats, and this is my last note! \
If not, I'm still here.
{% if listings %}
A few more ideas:
"""
        + LISTINGS
        + """
{% endif %}
Say hi any time: {{ organization.chat_url }}

Cheers,
"""
        + SIGNATURE,
    ),
]

WELCOME_STEPS = {"friendly": _FRIENDLY, "formal": _FORMAL, "casual": _CASUAL}
WELCOME_NAME = "Welcome sequence"


def welcome_steps(persona_tone: str) -> list[StepText]:
    return WELCOME_STEPS[tone_of(persona_tone)]
