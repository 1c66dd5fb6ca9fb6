"""REST API of email follow-up: campaigns CRUD + send + progress, their steps, and the message log."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.permissions import IsOrgMemberReadAdminWrite
from apps.campaigns import selectors, services
from apps.campaigns.models import Campaign, CampaignStep, MessageStatus
from apps.campaigns.serializers import (
    CampaignInputSerializer,
    CampaignProgressSerializer,
    CampaignSendResultSerializer,
    CampaignSendSerializer,
    CampaignSerializer,
    CampaignStepInputSerializer,
    CampaignStepSerializer,
    MessageLogFilterSerializer,
    MessageLogSerializer,
)

_CAMPAIGN_WRITE_DOC = (
    "`kind` sequence or blast; `trigger` lead_created (sequences) or manual; `status` draft/active/paused."
)


class _WelcomeReady:
    """Every organization has a welcome sequence: created here at the latest, before campaigns are shown."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        services.welcome_sequence_ensure(organization=request.tenant)


@extend_schema_view(
    list=extend_schema(summary="Campaigns, newest first (the welcome sequence included)"),
    retrieve=extend_schema(summary="One campaign"),
    destroy=extend_schema(summary="Delete a campaign with its steps (its message logs stay)"),
)
class CampaignViewSet(_WelcomeReady, viewsets.GenericViewSet):
    permission_classes = [IsOrgMemberReadAdminWrite]
    serializer_class = CampaignSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.campaign_list()

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CampaignSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk=None) -> Response:
        return Response(CampaignSerializer(self.get_object()).data)

    @extend_schema(
        request=CampaignInputSerializer,
        responses={201: CampaignSerializer},
        summary="Create a campaign (within the plan's campaigns limit)",
        description=_CAMPAIGN_WRITE_DOC,
    )
    def create(self, request: Request) -> Response:
        data = CampaignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_create(organization=request.tenant, **data.validated_data)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CampaignInputSerializer, responses=CampaignSerializer, summary="Replace a campaign")
    def update(self, request: Request, pk=None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        request=CampaignInputSerializer,
        responses=CampaignSerializer,
        summary="Change a campaign (e.g. pause or activate it)",
        description=_CAMPAIGN_WRITE_DOC,
    )
    def partial_update(self, request: Request, pk=None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        campaign = self.get_object()
        data = CampaignInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        campaign = services.campaign_update(campaign=campaign, **data.validated_data)
        return Response(CampaignSerializer(campaign).data)

    def destroy(self, request: Request, pk=None) -> Response:
        services.campaign_delete(campaign=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=CampaignSendSerializer,
        responses={
            202: CampaignSendResultSerializer,
            409: OpenApiResponse(description="The campaign is paused"),
        },
        summary="Send the campaign to the leads matching a filter (blasts go out in rate-limited batches)",
        description=(
            'Body `{"filter": {"status", "source", "q"}}`. Leads without an address, suppressed addresses and '
            "leads already enrolled are left out; `queued` counts the rest. A draft campaign becomes active."
        ),
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, pk=None) -> Response:
        data = CampaignSendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        queued = services.campaign_send(campaign=self.get_object(), filters=data.validated_data["filter"])
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=CampaignProgressSerializer, summary="How far the campaign got: enrolled, pending, sent")
    @action(detail=True, methods=["get"])
    def progress(self, request: Request, pk=None) -> Response:
        return Response(CampaignProgressSerializer(selectors.campaign_progress(campaign=self.get_object())).data)


_STEP_PARAMETERS = [OpenApiParameter("campaign_pk", int, OpenApiParameter.PATH, description="The campaign's id")]


@extend_schema_view(
    list=extend_schema(summary="The campaign's steps, in order", parameters=_STEP_PARAMETERS),
    retrieve=extend_schema(summary="One step", parameters=_STEP_PARAMETERS),
    destroy=extend_schema(summary="Delete a step", parameters=_STEP_PARAMETERS),
)
class CampaignStepViewSet(_WelcomeReady, viewsets.GenericViewSet):
    permission_classes = [IsOrgMemberReadAdminWrite]
    serializer_class = CampaignStepSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def campaign(self) -> Campaign:
        return get_object_or_404(selectors.campaign_list(), pk=self.kwargs["campaign_pk"])

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reads the model without a campaign
            return CampaignStep.objects.none()
        return selectors.campaign_step_list(campaign=self.campaign())

    def list(self, request: Request, campaign_pk=None) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CampaignStepSerializer(page, many=True).data)

    def retrieve(self, request: Request, campaign_pk=None, pk=None) -> Response:
        return Response(CampaignStepSerializer(self.get_object()).data)

    @extend_schema(
        request=CampaignStepInputSerializer,
        responses={201: CampaignStepSerializer, 409: OpenApiResponse(description="Another step has this order")},
        summary="Add a step",
        parameters=_STEP_PARAMETERS,
    )
    def create(self, request: Request, campaign_pk=None) -> Response:
        data = CampaignStepInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = services.campaign_step_create(campaign=self.campaign(), **data.validated_data)
        return Response(CampaignStepSerializer(step).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=CampaignStepInputSerializer,
        responses=CampaignStepSerializer,
        summary="Replace a step",
        parameters=_STEP_PARAMETERS,
    )
    def update(self, request: Request, campaign_pk=None, pk=None) -> Response:
        return self._update(request, partial=False)

    @extend_schema(
        request=CampaignStepInputSerializer,
        responses=CampaignStepSerializer,
        summary="Change a step (subject, body, delay_days, order)",
        parameters=_STEP_PARAMETERS,
    )
    def partial_update(self, request: Request, campaign_pk=None, pk=None) -> Response:
        return self._update(request, partial=True)

    def _update(self, request: Request, *, partial: bool) -> Response:
        step = self.get_object()
        data = CampaignStepInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        # A replace without an order keeps the step where it is (order has no default).
        step = services.campaign_step_update(step=step, **data.validated_data)
        return Response(CampaignStepSerializer(step).data)

    def destroy(self, request: Request, campaign_pk=None, pk=None) -> Response:
        services.campaign_step_delete(step=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(retrieve=extend_schema(summary="One message log"))
class MessageLogViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every mail sent (or tried) to a lead, with its tracked status; read-only."""

    serializer_class = MessageLogSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.message_log_list()

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=MessageStatus.values, description="Only mails in this status"),
            OpenApiParameter("lead", int, description="Only mails to this lead"),
            OpenApiParameter("campaign", int, description="Only mails of this campaign"),
        ],
        summary="Mails sent to leads, newest first",
    )
    def list(self, request: Request) -> Response:
        filters = MessageLogFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(selectors.message_log_list(filters=filters.validated_data))
        return self.get_paginated_response(MessageLogSerializer(page, many=True).data)
