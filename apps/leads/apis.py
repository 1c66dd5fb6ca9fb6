"""REST API of leads: list (filters status, source, q), capture (201 new / 200 merged), retrieve, patch."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.authentication import ApiKeyPrincipal
from apps.leads.models import LeadSource, LeadStatus
from apps.leads.selectors import lead_list
from apps.leads.serializers import LeadCreateSerializer, LeadSerializer, LeadUpdateSerializer
from apps.leads.services import lead_capture, lead_update


def _actor(request: Request):
    # A person's change is attributed to them; an API key is no user.
    return None if isinstance(request.user, ApiKeyPrincipal) else request.user


@extend_schema_view(
    list=extend_schema(
        summary="Leads, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=LeadStatus.values),
            OpenApiParameter("source", str, enum=LeadSource.values),
            OpenApiParameter("q", str, description="Text in the name or email, or digits of the phone"),
        ],
    ),
    retrieve=extend_schema(summary="One lead"),
)
class LeadViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Every member of the organization works its leads."""

    serializer_class = LeadSerializer
    filter_backends: list = []  # lead_list applies and validates the filters itself
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if self.action == "list":
            return lead_list(filters=self.request.query_params)
        return lead_list()

    @extend_schema(
        summary="Capture a lead: an email or phone already known merges into that lead (200), else a new one (201)",
        request=LeadCreateSerializer,
        responses={201: LeadSerializer, 200: OpenApiResponse(LeadSerializer, description="Merged into a known lead")},
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = LeadCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        lead, created = lead_capture(
            name=data.get("name") or "",
            email=data.get("email"),
            phone=data.get("phone"),
            source=data["source"],
            attributes=data.get("attributes") or {},
            conversation_id=data.get("conversation"),
            owner=data.get("owner"),
        )
        return Response(LeadSerializer(lead).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        summary="Change a lead (status moves are recorded)", request=LeadUpdateSerializer, responses=LeadSerializer
    )
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        lead = self.get_object()
        serializer = LeadUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        lead = lead_update(lead=lead, changed_by=_actor(request), reason="api", **serializer.validated_data)
        return Response(LeadSerializer(lead).data)
