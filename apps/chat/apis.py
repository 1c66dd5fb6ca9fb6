"""REST API of conversations: list, detail with messages, an agent's reply (live), release back to the AI."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chat.models import Channel, Conversation, ConversationStatus, Message
from apps.chat.selectors import conversation_get, conversation_list
from apps.chat.services import conversation_agent_reply, conversation_release
from apps.core.errors import ApplicationError, ErrorCode


class MessageSerializer(serializers.ModelSerializer):
    citations = serializers.ListField(source="cited_property_ids", child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = Message
        fields = ["id", "role", "text", "citations", "is_partial", "client_id", "latency_ms", "created_at"]
        read_only_fields = fields


class ConversationSerializer(serializers.ModelSerializer):
    lead = serializers.IntegerField(source="lead_id", read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        fields = ["id", "channel", "status", "visitor_id", "lead", "started_at", "last_message_at", "message_count"]
        read_only_fields = fields


class ConversationDetailSerializer(ConversationSerializer):
    messages = MessageSerializer(many=True, read_only=True)

    class Meta(ConversationSerializer.Meta):
        fields = [*ConversationSerializer.Meta.fields, "messages"]
        read_only_fields = fields


class AgentMessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000, allow_blank=False, trim_whitespace=True)


def _conversation_or_404(pk: int) -> Conversation:
    conversation = conversation_get(pk=pk)
    if conversation is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "No such conversation.")
    return conversation


class ConversationFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    lead = serializers.IntegerField(required=False, min_value=1)


class ConversationListView(ListAPIView):
    serializer_class = ConversationSerializer
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=ConversationStatus.values),
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("lead", int),
        ],
        summary="Conversations, most recent activity first",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        filters = ConversationFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return conversation_list(filters=filters.validated_data)


class ConversationDetailView(APIView):
    @extend_schema(responses=ConversationDetailSerializer, summary="A conversation with its messages")
    def get(self, request, pk: int):
        return Response(ConversationDetailSerializer(_conversation_or_404(pk)).data)


class ConversationMessageView(APIView):
    @extend_schema(
        request=AgentMessageSerializer,
        responses={201: MessageSerializer},
        summary="Reply as a person: sent to the visitor live; the assistant stays quiet until released",
    )
    def post(self, request, pk: int):
        serializer = AgentMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = conversation_agent_reply(
            conversation=_conversation_or_404(pk),
            text=serializer.validated_data["text"],
            author_user_id=getattr(request.user, "pk", None),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class ConversationReleaseView(APIView):
    @extend_schema(
        request=None, responses=ConversationSerializer, summary="Hand the conversation back to the assistant"
    )
    def post(self, request, pk: int):
        conversation = conversation_release(conversation=_conversation_or_404(pk))
        return Response(ConversationSerializer(conversation).data)
