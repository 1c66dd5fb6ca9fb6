"""Forms of the dashboard: they validate input shape; services decide and write."""

from __future__ import annotations

from django import forms
from django.conf import settings

from apps.accounts.models import Role
from apps.campaigns.models import CampaignKind
from apps.events.models import EventType
from apps.leads.models import LeadSource, LeadStatus
from apps.tenants.models import Organization


class ReplyForm(forms.Form):
    text = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Write a reply…"}))


class LeadStatusForm(forms.Form):
    status = forms.ChoiceField(choices=LeadStatus.choices)


class BrandForm(forms.ModelForm):
    logo_url = forms.URLField(required=False, assume_scheme="https", max_length=200)

    class Meta:
        model = Organization
        fields = ["name", "primary_color", "logo_url"]
        widgets = {"primary_color": forms.TextInput(attrs={"type": "color"})}


class PersonaForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = ["persona_name", "persona_tone", "persona_instructions", "greeting"]
        widgets = {"persona_instructions": forms.Textarea(attrs={"rows": 4})}


class OriginsForm(forms.Form):
    allowed_origins = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.example.com"}),
        help_text="One origin per line. Empty allows the widget on any site.",
    )

    def clean_allowed_origins(self) -> list[str]:
        lines = self.cleaned_data["allowed_origins"].replace(",", "\n").splitlines()
        return [line.strip().rstrip("/") for line in lines if line.strip()]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=50)


class CheckoutForm(forms.Form):
    plan = forms.SlugField(max_length=20)


class ListingImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with a header row, or a JSON array of listings; upserted by external_id.")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.PROPERTY_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file has {upload.size} bytes; the limit is {limit}.")
        return upload


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(max_length=2000, widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks"}))
    description = forms.CharField(max_length=300, required=False)
    event_types = forms.MultipleChoiceField(
        choices=[("*", "All events"), *EventType.choices],
        widget=forms.CheckboxSelectMultiple,
        initial=["*"],
    )


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=CampaignKind.choices, initial=CampaignKind.BLAST)


class StepForm(forms.Form):
    subject = forms.CharField(max_length=300)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}))
    delay_days = forms.IntegerField(min_value=0, max_value=3650, initial=0, label="Day of the sequence")


class SendForm(forms.Form):
    """Which leads get the campaign: the leads page's filters."""

    status = forms.ChoiceField(choices=[("", "Any status"), *LeadStatus.choices], required=False)
    source = forms.ChoiceField(choices=[("", "Any source"), *LeadSource.choices], required=False)
    q = forms.CharField(max_length=200, required=False, label="Search")

    def lead_filters(self) -> dict[str, str]:
        return {name: value for name, value in self.cleaned_data.items() if value}
