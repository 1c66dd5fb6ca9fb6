"""REST API of the caller's own organization: GET (members) and PATCH (admins) /api/v1/organization/."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsOrgMemberReadAdminWrite
from apps.tenants.models import Organization, validate_origin
from apps.tenants.services import EDITABLE_FIELDS, organization_update


class OrganizationSerializer(serializers.ModelSerializer):
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=200, validators=[validate_origin]),
        required=False,
        help_text="Origins allowed to embed the chat widget (e.g. https://www.acme.com); empty allows any.",
    )

    class Meta:
        model = Organization
        # What an admin may change is the service's list; slug and timestamps are shown read-only.
        fields = ["slug", *EDITABLE_FIELDS, "created_at", "updated_at"]
        read_only_fields = ["slug", "created_at", "updated_at"]

    def validate_allowed_origins(self, value: list[str]) -> list[str]:
        # Store origins the way browsers send them: lower case, no trailing slash, no duplicates.
        return list(dict.fromkeys(origin.lower() for origin in value))


class OrganizationView(APIView):
    permission_classes = [IsOrgMemberReadAdminWrite]

    @extend_schema(responses=OrganizationSerializer, summary="The organization of this host")
    def get(self, request):
        return Response(OrganizationSerializer(request.tenant).data)

    @extend_schema(
        request=OrganizationSerializer, responses=OrganizationSerializer, summary="Update brand, persona and origins"
    )
    def patch(self, request):
        serializer = OrganizationSerializer(request.tenant, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        organization = organization_update(organization=request.tenant, **serializer.validated_data)
        return Response(OrganizationSerializer(organization).data)
