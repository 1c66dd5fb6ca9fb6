"""REST API of listings: CRUD with filters, `search/` (hybrid, scored) and `import/` (CSV or JSON upload)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsOrgMemberReadAdminWrite
from apps.billing.permissions import SubscriptionWritable
from apps.core.errors import ApplicationError, ErrorCode
from apps.properties.models import ListingType, PropertyType
from apps.properties.selectors import MAX_SEARCH_LIMIT, property_list, property_search
from apps.properties.serializers import (
    PropertyImportRequestSerializer,
    PropertyImportResultSerializer,
    PropertySearchResultSerializer,
    PropertySerializer,
)
from apps.properties.services import (
    property_create,
    property_delete,
    property_import,
    property_rows_parse,
    property_update,
)

TOO_LARGE = "too_large"

FILTER_PARAMETERS = [
    OpenApiParameter("city", str, description="City (case-insensitive, exact)"),
    OpenApiParameter("property_type", str, enum=PropertyType.values),
    OpenApiParameter("listing_type", str, enum=ListingType.values),
    OpenApiParameter("min_price", OpenApiTypes.NUMBER, description="Price at least"),
    OpenApiParameter("max_price", OpenApiTypes.NUMBER, description="Price at most"),
    OpenApiParameter("min_bedrooms", int, description="Bedrooms at least"),
    OpenApiParameter("is_active", bool),
]


@extend_schema_view(
    list=extend_schema(
        summary="Listings, newest first",
        parameters=[
            *FILTER_PARAMETERS,
            OpenApiParameter("q", str, description="Text in the title, description, address, area or features"),
        ],
    ),
    retrieve=extend_schema(summary="One listing"),
    create=extend_schema(summary="Add a listing (counts against the plan's `listings`)"),
    update=extend_schema(summary="Replace a listing"),
    partial_update=extend_schema(summary="Change a listing"),
    destroy=extend_schema(summary="Delete a listing"),
)
class PropertyViewSet(viewsets.ModelViewSet):
    """Members read; admins (and API keys) write."""

    serializer_class = PropertySerializer
    # SubscriptionWritable: a canceled subscription makes the catalog read-only (the API's default rule).
    permission_classes = [IsOrgMemberReadAdminWrite, SubscriptionWritable]
    filter_backends: list = []  # property_list applies and validates the filters itself
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if self.action == "list":
            return property_list(filters=self.request.query_params)
        return property_list()

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = PropertySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listing = property_create(**serializer.validated_data)
        return Response(PropertySerializer(listing).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        listing = self.get_object()
        serializer = PropertySerializer(listing, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        listing = property_update(listing=listing, **serializer.validated_data)
        return Response(PropertySerializer(listing).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        property_delete(listing=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Hybrid search: the question's own filters plus the given ones, ranked by text and meaning",
        parameters=[
            OpenApiParameter("q", str, description='A question, e.g. "3 bed house in Austin under $500k with a pool"'),
            OpenApiParameter("limit", int, description=f"How many results (1–{MAX_SEARCH_LIMIT}, default 5)"),
            *FILTER_PARAMETERS,
        ],
        responses=PropertySearchResultSerializer,
    )
    @action(detail=False, methods=["get"])
    def search(self, request: Request) -> Response:
        raw_limit = request.query_params.get("limit") or "5"
        try:
            limit = int(raw_limit)
        except ValueError:
            raise ApplicationError(ErrorCode.INVALID, "limit must be a whole number.", attr="limit") from None
        hits = property_search(query=request.query_params.get("q", ""), filters=request.query_params, limit=limit)
        return Response(PropertySearchResultSerializer({"results": hits}).data)

    @extend_schema(
        summary="Import listings from a CSV or JSON file (upsert by external_id)",
        request={"multipart/form-data": PropertyImportRequestSerializer},
        responses=PropertyImportResultSerializer,
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser, FormParser])
    def import_listings(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ApplicationError(ErrorCode.INVALID, "Upload the listings as the multipart field `file`.", attr="file")
        max_bytes = settings.PROPERTY_IMPORT_MAX_BYTES
        if upload.size > max_bytes:
            raise ApplicationError(
                TOO_LARGE,
                f"The file has {upload.size} bytes; the limit is {max_bytes} (split it into several imports).",
                attr="file",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        rows = property_rows_parse(content=upload.read(), filename=upload.name or "")
        result = property_import(rows=rows)
        return Response(PropertyImportResultSerializer(result.as_dict()).data)
