"""REST API of billing on the tenant host: checkout, portal and the subscription with its entitlements and usage."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsOrgMember, IsOrgOwner
from apps.billing.models import SubscriptionStatus
from apps.billing.permissions import billing_exempt
from apps.billing.selectors import subscription_data, subscription_get
from apps.billing.services import billing_checkout_start, billing_portal_start
from apps.core.errors import ApplicationError, ErrorCode


class CheckoutInputSerializer(serializers.Serializer):
    plan = serializers.CharField(max_length=20, help_text="Plan code: starter, pro or agency.")


class RedirectSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Stripe's page to send the owner to.")


class SubscriptionSerializer(serializers.Serializer):
    """Documents the shape of selectors.subscription_data (which builds it)."""

    plan = serializers.CharField(help_text="Plan code.")
    status = serializers.ChoiceField(choices=SubscriptionStatus.choices)
    current_period_end = serializers.DateTimeField(allow_null=True)
    entitlements = serializers.DictField(
        child=serializers.IntegerField(allow_null=True), help_text="Limit of each entitlement; null is unlimited."
    )
    usage = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text="Current use of each entitlement; null when it is not counted yet.",
    )


# Billing stays writable when the subscription is canceled: it is how an organization comes back.
@billing_exempt
class BillingCheckoutView(APIView):
    permission_classes = [IsOrgOwner]

    @extend_schema(
        request=CheckoutInputSerializer,
        responses=RedirectSerializer,
        summary="Start a Stripe Checkout for a plan (owner)",
        description="503 `billing_unavailable` when the platform has no Stripe key; 409 when a Stripe "
        "subscription exists already (change plans in the portal).",
    )
    def post(self, request):
        serializer = CheckoutInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        url = billing_checkout_start(organization=request.tenant, plan_code=serializer.validated_data["plan"])
        return Response({"url": url})


@billing_exempt
class BillingPortalView(APIView):
    permission_classes = [IsOrgOwner]

    @extend_schema(
        request=None,
        responses=RedirectSerializer,
        summary="Open the Stripe customer portal (owner)",
        description="Payment method, invoices, plan changes and cancelation. 409 before the first checkout.",
    )
    def post(self, request):
        return Response({"url": billing_portal_start(organization=request.tenant)})


class BillingSubscriptionView(APIView):
    permission_classes = [IsOrgMember]

    @extend_schema(responses=SubscriptionSerializer, summary="The plan, its status, entitlements and usage")
    def get(self, request):
        subscription = subscription_get(organization=request.tenant)
        if subscription is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "This organization has no subscription.")
        return Response(subscription_data(subscription=subscription))
