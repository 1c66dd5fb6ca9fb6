"""REST API of the event log: GET /api/v1/events/ (filter `type`)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from apps.events.models import Event, EventType
from apps.events.selectors import event_list


class EventSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)

    class Meta:
        model = Event
        fields = ["id", "type", "data", "created_at"]


class EventListView(ListAPIView):
    serializer_class = EventSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[OpenApiParameter("type", str, enum=EventType.values, description="Only events of this type")],
        summary="The organization's events, newest first",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return event_list(filters={"type": self.request.query_params.get("type")})
