"""Tenant-host API routes of billing."""

from django.urls import path

from apps.billing.apis import BillingCheckoutView, BillingPortalView, BillingSubscriptionView

urlpatterns = [
    path("billing/checkout/", BillingCheckoutView.as_view(), name="billing-checkout"),
    path("billing/portal/", BillingPortalView.as_view(), name="billing-portal"),
    path("billing/subscription/", BillingSubscriptionView.as_view(), name="billing-subscription"),
]
