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


class EventFilterSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=EventType.choices, required=False)


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
        filters = EventFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)  # an unknown type is a 400 naming `type`, not an empty page
        return event_list(filters=filters.validated_data)
