"""Forms of the dashboard: they validate input shape; services decide and write."""

from __future__ import annotations

from django import forms

from apps.leads.models import LeadStatus
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
