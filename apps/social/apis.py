"""REST API of connected Meta accounts (tenant host, /api/connect/): connect, list, disconnect."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import IsOrgAdmin, IsOrgMemberReadAdminWrite
from apps.billing.permissions import SubscriptionWritable
from apps.core.errors import ApplicationError, ErrorCode
from apps.social.models import SocialAccount
from apps.social.selectors import social_account_get, social_account_list
from apps.social.services import social_account_connect, social_account_disconnect
from apps.socialrouting.models import Platform


class ConnectSerializer(serializers.Serializer):
    page_id = serializers.CharField(
        max_length=64, help_text="The Facebook page (for Instagram: the page linked to it)."
    )
    access_token = serializers.CharField(
        max_length=2000,
        required=False,
        write_only=True,
        help_text="A page access token, or a user token managing the page.",
    )
    code = serializers.CharField(
        max_length=2000,
        required=False,
        write_only=True,
        help_text="An OAuth code from Facebook Login, instead of a token.",
    )
    redirect_uri = serializers.URLField(
        required=False, default="", help_text="The redirect_uri the code was issued for."
    )

    def validate(self, attrs):
        if bool(attrs.get("access_token")) == bool(attrs.get("code")):
            raise serializers.ValidationError({"access_token": "Give either an access_token or an OAuth code."})
        return attrs


class SocialAccountSerializer(serializers.ModelSerializer):
    connected_by = serializers.IntegerField(source="connected_by_id", read_only=True, allow_null=True)

    class Meta:
        model = SocialAccount
        fields = [
            "id",
            "platform",
            "page_id",
            "external_id",
            "name",
            "status",
            "disconnect_reason",
            "status_detail",
            "connected_by",
            "connected_at",
            "disconnected_at",
            "last_synced_at",
        ]
        read_only_fields = fields


class ConnectView(APIView):
    permission_classes = [IsOrgAdmin, SubscriptionWritable]

    @extend_schema(
        parameters=[OpenApiParameter("platform", OpenApiTypes.STR, OpenApiParameter.PATH, enum=Platform.values)],
        request=ConnectSerializer,
        responses={201: SocialAccountSerializer, 200: SocialAccountSerializer},
        summary="Connect a Facebook page (Messenger) or the Instagram account linked to a page",
        description=(
            "The token (or the OAuth code, exchanged with FACEBOOK_APP_ID/FACEBOOK_APP_SECRET) is checked "
            "against the Graph API, the page is subscribed to the app's webhooks, and the account is stored "
            "with its token encrypted. Recent conversations are backfilled in the background, unanswered. "
            "201 for a new account, 200 when an existing one is reconnected; 409 when another organization "
            "connected it; 403 `plan_limit` past the plan's channels."
        ),
    )
    def post(self, request, platform: str):
        serializer = ConnectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account, created = social_account_connect(
            organization=request.tenant,
            platform=platform,
            user=request.user,
            **serializer.validated_data,
        )
        return Response(
            SocialAccountSerializer(account).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class SocialAccountListView(ListAPIView):
    serializer_class = SocialAccountSerializer
    filter_backends: list = []

    @extend_schema(summary="Connected Messenger pages and Instagram accounts, with why one stopped working")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return social_account_list()


class SocialAccountDetailView(APIView):
    permission_classes = [IsOrgMemberReadAdminWrite, SubscriptionWritable]

    def _account(self, pk: int) -> SocialAccount:
        account = social_account_get(pk=pk)
        if account is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "No such account.")
        return account

    @extend_schema(responses=SocialAccountSerializer, summary="A connected account")
    def get(self, request, pk: int):
        return Response(SocialAccountSerializer(self._account(pk)).data)

    @extend_schema(
        request=None,
        responses={200: SocialAccountSerializer},
        summary="Disconnect: unsubscribe the page, forget the token and the routing",
    )
    def delete(self, request, pk: int):
        account = social_account_disconnect(account=self._account(pk))
        return Response(SocialAccountSerializer(account).data)
