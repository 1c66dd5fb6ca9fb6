"""Forms of sign-up and the wizard: shapes and choices here; the services decide and write."""

from __future__ import annotations

from django import forms
from django.contrib.auth.password_validation import validate_password

from apps.socialrouting.models import Platform
from apps.tenants.models import hex_color_validator, validate_slug

TONES = [
    ("friendly", "Friendly"),
    ("professional", "Professional"),
    ("formal", "Formal"),
    ("enthusiastic", "Enthusiastic"),
    ("concise", "Concise"),
]


class SignupForm(forms.Form):
    # The column's length (an EmailField allows 320 by default: a longer address was a 500).
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), help_text="At least 8 characters."
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password"):
            from apps.accounts.models import User

            try:
                validate_password(cleaned["password"], User(email=cleaned.get("email", "")))
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class BrandForm(forms.Form):
    name = forms.CharField(label="Agency name", max_length=120)
    slug = forms.CharField(
        label="Address",
        max_length=40,
        help_text="Your dashboard's address: <slug>.<domain>. Lowercase letters, digits and hyphens.",
    )
    primary_color = forms.CharField(
        label="Brand color",
        initial="#2563eb",
        validators=[hex_color_validator],
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    logo_url = forms.URLField(label="Logo URL", required=False, assume_scheme="https", max_length=200)

    def clean_slug(self) -> str:
        # The format here, next to the other fields' errors; whether it is free is the service's to say.
        slug = self.cleaned_data["slug"].strip().lower()
        validate_slug(slug)
        return slug


class PersonaForm(forms.Form):
    persona_name = forms.CharField(label="Assistant's name", max_length=60, initial="Ava")
    persona_tone = forms.ChoiceField(label="Tone", choices=TONES, initial="friendly")
    persona_instructions = forms.CharField(
        label="Instructions",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the assistant should know or always do (e.g. mention free valuations).",
    )
    greeting = forms.CharField(label="Greeting", max_length=300)


class ChannelsForm(forms.Form):
    allowed_origins = forms.CharField(
        label="Websites allowed to show the chat",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.your-agency.com"}),
        help_text="One origin per line. Empty allows any site.",
    )
    platform = forms.ChoiceField(label="Channel", choices=Platform.choices, required=False)
    page_id = forms.CharField(label="Page or account id", required=False, max_length=40)
    access_token = forms.CharField(label="Page access token", required=False, widget=forms.PasswordInput)

    def clean_allowed_origins(self) -> list[str]:
        lines = self.cleaned_data["allowed_origins"].replace(",", "\n").splitlines()
        return [line.strip().rstrip("/") for line in lines if line.strip()]


class ImportForm(forms.Form):
    file = forms.FileField(label="Listings file (CSV or JSON)", required=False)
