"""REST API of webhooks: endpoints CRUD, rotate-secret, test ping; deliveries list with attempts, replay."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.accounts.permissions import IsOrgMemberReadAdminWrite
from apps.webhooks import selectors, services
from apps.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "disabled_reason"]
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret (whsec_…). Shown only now.")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookEndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text="http(s) URL of a public address.")
    description = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=50), help_text='Event types to receive, or ["*"] for all.'
    )
    is_active = serializers.BooleanField(required=False, default=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["status_code", "error", "duration_ms", "created_at"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event.uid", read_only=True, allow_null=True, help_text="null for a test ping")
    endpoint = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="null for the platform-wide N8N endpoint"
    )
    attempts = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "endpoint",
            "webhook_id",
            "status",
            "attempt_count",
            "next_attempt_at",
            "attempts",
        ]
        read_only_fields = fields


class WebhookDeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
    endpoint = serializers.IntegerField(required=False, min_value=1)


def _with_secret(endpoint: WebhookEndpoint, secret: str) -> dict:
    endpoint.secret = secret
    return WebhookEndpointWithSecretSerializer(endpoint).data


@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints"),
    retrieve=extend_schema(summary="One webhook endpoint"),
    destroy=extend_schema(summary="Delete an endpoint (and its delivery log)"),
)
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    permission_classes = [IsOrgMemberReadAdminWrite]
    serializer_class = WebhookEndpointSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.webhook_endpoint_list()

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(WebhookEndpointSerializer(self.get_object()).data)

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses={201: WebhookEndpointWithSecretSerializer},
        summary="Create an endpoint; the response shows its secret, once",
    )
    def create(self, request):
        data = WebhookEndpointInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint, secret = services.webhook_endpoint_create(organization=request.tenant, **data.validated_data)
        return Response(_with_secret(endpoint, secret), status=status.HTTP_201_CREATED)

    @extend_schema(request=WebhookEndpointInputSerializer, responses=WebhookEndpointSerializer, summary="Replace")
    def update(self, request, pk=None):
        return self._update(request, partial=False)

    @extend_schema(
        request=WebhookEndpointInputSerializer,
        responses=WebhookEndpointSerializer,
        summary="Change url, description, event types or is_active (re-enabling clears disabled_reason)",
    )
    def partial_update(self, request, pk=None):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        endpoint = self.get_object()
        data = WebhookEndpointInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    def destroy(self, request, pk=None):
        services.webhook_endpoint_delete(endpoint=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses=WebhookEndpointWithSecretSerializer,
        summary="New signing secret (shown once); the previous one keeps signing for 24 hours",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint, secret = services.webhook_endpoint_secret_rotate(endpoint=self.get_object())
        return Response(_with_secret(endpoint, secret))

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer, 409: OpenApiResponse(description="The endpoint is disabled")},
        summary="Send a signed `webhook.test` ping to this endpoint",
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = services.webhook_endpoint_ping(endpoint=self.get_object())
        delivery = selectors.webhook_delivery_get(delivery_id=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


@extend_schema_view(retrieve=extend_schema(summary="One delivery with its attempts"))
class WebhookDeliveryViewSet(viewsets.GenericViewSet):
    permission_classes = [IsOrgMemberReadAdminWrite]
    serializer_class = WebhookDeliverySerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.webhook_delivery_list()

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=DeliveryStatus.values, description="Only deliveries in this status"),
            OpenApiParameter("endpoint", int, description="Only deliveries to this endpoint"),
        ],
        summary="Deliveries, newest first, with their attempts",
    )
    def list(self, request):
        filters = WebhookDeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.webhook_delivery_list(filters=filters.validated_data))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(WebhookDeliverySerializer(self.get_object()).data)

    @extend_schema(
        request=None,
        responses={202: WebhookDeliverySerializer, 409: OpenApiResponse(description="Queued already, or disabled")},
        summary="Send again with the same webhook-id",
    )
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        delivery = services.webhook_delivery_replay(delivery=self.get_object())
        delivery = selectors.webhook_delivery_get(delivery_id=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
