"""Pages of the dashboard on an organization's host: thin views over the domains' selectors and services."""

from __future__ import annotations

import csv

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from apps.accounts.decorators import org_admin_required, org_member_required, org_owner_required, public_route
from apps.accounts.models import OrganizationAPIKey, Role
from apps.accounts.selectors import membership_get, membership_list, request_role, role_at_least
from apps.accounts.services import (
    api_key_create,
    api_key_revoke,
    membership_delete,
    membership_invite,
    membership_role_change,
)
from apps.analytics.selectors import analytics_days_validate, analytics_summary
from apps.billing.models import Plan
from apps.billing.selectors import billing_banner, subscription_data, subscription_get
from apps.billing.services import billing_checkout_start, billing_portal_start
from apps.campaigns.selectors import campaign_list, campaign_progress, campaign_step_list
from apps.campaigns.services import (
    campaign_create,
    campaign_send,
    campaign_step_create,
    campaign_step_update,
    welcome_sequence_ensure,
)
from apps.chat.models import ConversationStatus
from apps.chat.selectors import conversation_get, conversation_list
from apps.chat.services import conversation_agent_reply, conversation_hand_over, conversation_release
from apps.core.errors import ApplicationError
from apps.core.jobs import enqueue_on_commit
from apps.core.progress import progress_get, progress_start
from apps.core.text import text_storable
from apps.dashboard.forms import (
    ApiKeyForm,
    BrandForm,
    CampaignForm,
    CheckoutForm,
    InviteForm,
    LeadStatusForm,
    ListingImportForm,
    OriginsForm,
    PersonaForm,
    ReplyForm,
    RoleForm,
    SendForm,
    StepForm,
    WebhookEndpointForm,
)
from apps.leads.models import LeadSource, LeadStatus
from apps.leads.selectors import lead_get, lead_list
from apps.leads.services import lead_status_change
from apps.onboarding.auth import LoginForm
from apps.onboarding.invitations import invitation_send
from apps.onboarding.services import dashboard_login_redeem
from apps.onboarding.views import public_base_url
from apps.properties.actors import (
    KIND_IMPORT,
    KIND_REINDEX,
    import_rows_jsonable,
    property_import_run,
    property_reindex_run,
)
from apps.properties.models import ListingType, PropertyType
from apps.properties.selectors import property_list
from apps.properties.services import property_rows_parse
from apps.tenants.services import organization_update
from apps.webhooks.models import DeliveryStatus
from apps.webhooks.selectors import (
    webhook_delivery_get,
    webhook_delivery_list,
    webhook_endpoint_get,
    webhook_endpoint_list,
)
from apps.webhooks.services import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_secret_rotate,
    webhook_endpoint_update,
)

RANGES = (7, 30, 90, 365)
LEADS_PER_PAGE = 50
LISTINGS_PER_PAGE = 50
DELIVERIES_SHOWN = 50
LISTING_FILTERS = ("q", "city", "property_type", "listing_type", "min_price", "max_price", "is_active")
CONVERSATIONS_SHOWN = 50
EXPORT_FIELDS = ("id", "name", "email", "phone", "status", "source", "score", "conversation_id", "created_at")


def _password_reset_url(request: HttpRequest) -> str:
    # Accounts are platform-wide: their password is reset on the public host, whichever host asks.
    path = reverse("onboarding:password-reset", urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    return public_base_url(request) + path


def _context(request: HttpRequest, section: str, **extra) -> dict:
    role = request_role(request)
    return {
        "organization": request.tenant,
        "section": section,
        "role": role,
        "can_change": role_at_least(role, Role.ADMIN),
        "can_bill": role_at_least(role, Role.OWNER),
        **extra,
    }


# --- login -----------------------------------------------------------------------------------------


@public_route
def login_view(request: HttpRequest) -> HttpResponse:
    """Email + password on the organization's host (sessions are per host); failed tries are throttled."""
    if getattr(request, "tenant", None) is None or request.tenant.is_public:
        raise Http404("The dashboard lives on an organization's host.")
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("dashboard:overview")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("dashboard:overview")
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        return redirect(next_url)
    status = 429 if form.has_error("__all__", "rate_limited") else 200
    context = {
        "form": form,
        "next": next_url,
        "organization": request.tenant,
        "password_reset_url": _password_reset_url(request),
    }
    return render(request, "dashboard/login.html", context, status=status)


@public_route
def login_link(request: HttpRequest) -> HttpResponse:
    """The one-time signed link from the end of onboarding: the new owner lands logged in on this host."""
    if getattr(request, "tenant", None) is None or request.tenant.is_public:
        raise Http404("The dashboard lives on an organization's host.")
    try:
        user = dashboard_login_redeem(token=request.GET.get("token", ""), organization=request.tenant)
    except ApplicationError as exc:
        messages.error(request, exc.detail)
        return redirect("dashboard:login")
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("dashboard:overview")


@public_route
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("dashboard:login")


# --- overview ---------------------------------------------------------------------------------------


@org_member_required
def overview(request: HttpRequest) -> HttpResponse:
    try:
        days = analytics_days_validate(request.GET.get("days", 30))
    except ApplicationError:
        days = 30
    context = _context(
        request,
        "overview",
        summary=analytics_summary(days=days),
        days=days,
        ranges=RANGES,
        banner=billing_banner(request.tenant),
    )
    template = "dashboard/_metrics.html" if request.htmx else "dashboard/overview.html"
    return render(request, template, context)


# --- conversations ----------------------------------------------------------------------------------


@org_member_required
def conversations(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    if status not in ConversationStatus.values:
        status = ""
    rows = conversation_list(filters={"status": status}).select_related("lead")[:CONVERSATIONS_SHOWN]
    context = _context(request, "conversations", conversations=rows, status=status, statuses=ConversationStatus.choices)
    template = "dashboard/_conversation_rows.html" if request.htmx else "dashboard/conversations.html"
    return render(request, template, context)


def _conversation_or_404(pk: int):
    conversation = conversation_get(pk=pk)
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


@org_member_required
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation_or_404(pk)
    context = _context(request, "conversations", conversation=conversation, form=ReplyForm())
    return render(request, "dashboard/conversation.html", context)


@org_admin_required
@require_POST
def conversation_takeover(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation_or_404(pk)
    conversation_hand_over(conversation_id=conversation.pk)
    messages.success(request, "You are answering this conversation; the assistant stays quiet.")
    return redirect("dashboard:conversation", pk=pk)


@org_admin_required
@require_POST
def conversation_reply(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = _conversation_or_404(pk)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            conversation_agent_reply(
                conversation=conversation, text=form.cleaned_data["text"], author_user_id=request.user.pk
            )
        except ApplicationError as exc:
            form.add_error("text", exc.detail)
    if not form.is_valid() or form.errors:
        context = _context(request, "conversations", conversation=conversation, form=form)
        return render(request, "dashboard/conversation.html", context, status=400)
    return redirect("dashboard:conversation", pk=pk)


@org_admin_required
@require_POST
def conversation_release_view(request: HttpRequest, pk: int) -> HttpResponse:
    conversation_release(conversation=_conversation_or_404(pk))
    messages.success(request, "The assistant answers this conversation again.")
    return redirect("dashboard:conversation", pk=pk)


# --- leads ------------------------------------------------------------------------------------------


def _lead_filters(request: HttpRequest) -> dict[str, str]:
    return {name: request.GET.get(name, "").strip() for name in ("status", "source", "q") if request.GET.get(name)}


@org_member_required
def leads(request: HttpRequest) -> HttpResponse:
    filters = _lead_filters(request)
    error = None
    try:
        queryset = lead_list(filters=filters)
    except ApplicationError as exc:
        error, queryset = f"{exc.attr}: {exc.detail}", lead_list(filters={})
    page = Paginator(queryset, LEADS_PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode(filters)  # the export and pager links carry the same filter: "Smith & Sons" too
    context = _context(
        request,
        "leads",
        page=page,
        filters=filters,
        filter_error=error,
        query=query,
        statuses=LeadStatus.choices,
        sources=LeadSource.choices,
    )
    template = "dashboard/_lead_rows.html" if request.htmx else "dashboard/leads.html"
    return render(request, template, context)


def _lead_or_404(pk: int):
    lead = lead_get(pk=pk)
    if lead is None:
        raise Http404("No such lead.")
    return lead


@org_member_required
def lead_detail(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(pk)
    lead_conversations = list(conversation_list(filters={"lead": lead.pk})[:5])
    if lead.conversation_id and all(c.pk != lead.conversation_id for c in lead_conversations):
        first = conversation_get(pk=lead.conversation_id)
        if first is not None:
            lead_conversations.insert(0, first)
    conversation = conversation_get(pk=lead_conversations[0].pk) if lead_conversations else None
    context = _context(
        request,
        "leads",
        lead=lead,
        conversation=conversation,
        status_changes=lead.status_changes.all(),
        merges=lead.merges.all(),
        form=LeadStatusForm(initial={"status": lead.status}),
    )
    return render(request, "dashboard/lead.html", context)


@org_admin_required
@require_POST
def lead_status(request: HttpRequest, pk: int) -> HttpResponse:
    lead = _lead_or_404(pk)
    form = LeadStatusForm(request.POST)
    if form.is_valid():
        lead_status_change(lead=lead, status=form.cleaned_data["status"], changed_by=request.user, reason="dashboard")
        messages.success(request, f"Status changed to {lead.get_status_display()}.")
    else:
        messages.error(request, "Choose a valid status.")
    return redirect("dashboard:lead", pk=pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


@org_member_required
def leads_export(request: HttpRequest) -> HttpResponse:
    """The filtered leads as CSV, streamed: an export of thousands of leads never sits in memory at once."""
    try:
        queryset = lead_list(filters=_lead_filters(request))
    except ApplicationError as exc:
        return HttpResponse(f"{exc.attr}: {exc.detail}", status=400, content_type="text/plain")
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(EXPORT_FIELDS)
        for lead in queryset.iterator(chunk_size=500):
            yield writer.writerow([getattr(lead, field) for field in EXPORT_FIELDS])

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="leads-{request.tenant.slug}.csv"'
    return response


# --- listings ---------------------------------------------------------------------------------------


def _listings_context(request: HttpRequest, **extra) -> dict:
    filters = {name: request.GET[name].strip() for name in LISTING_FILTERS if request.GET.get(name, "").strip()}
    error = None
    try:
        queryset = property_list(filters=filters)
    except ApplicationError as exc:
        error, queryset = f"{exc.attr}: {exc.detail}", property_list(filters={})
    page = Paginator(queryset.order_by("-created_at", "-id"), LISTINGS_PER_PAGE).get_page(request.GET.get("page"))
    return _context(
        request,
        "listings",
        page=page,
        filters=filters,
        filter_error=error,
        query=urlencode(filters),
        property_types=PropertyType.choices,
        listing_types=ListingType.choices,
        **{"import_form": ListingImportForm(), **extra},
    )


@org_member_required
def listings(request: HttpRequest) -> HttpResponse:
    context = _listings_context(request)
    template = "dashboard/_listing_rows.html" if request.htmx else "dashboard/listings.html"
    return render(request, template, context)


@org_admin_required
@require_POST
def listings_import(request: HttpRequest) -> HttpResponse:
    """Start importing a file in the background; the page polls its progress, then shows what each row did.

    The file is parsed here, so a file that is not CSV/JSON is refused at once; the rows go to the job.
    """
    form = ListingImportForm(request.POST, request.FILES)
    job_id = None
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rows = property_rows_parse(content=upload.read(), filename=upload.name or "")
        except ApplicationError as exc:
            form.add_error("file", exc.detail)
        else:
            job_id = progress_start(kind=KIND_IMPORT, total=len(rows))
            enqueue_on_commit(property_import_run, job_id, import_rows_jsonable(rows))
    if job_id is None:
        context = _listings_context(request, import_form=form)
        return render(request, "dashboard/listings.html", context, status=400)
    return _job_response(request, job_id)


@org_admin_required
@require_POST
def listings_reindex(request: HttpRequest) -> HttpResponse:
    """Embed every listing again in the background, even unchanged ones (after a model change, or to repair search)."""
    total = property_list(filters={}).count()
    job_id = progress_start(kind=KIND_REINDEX, total=total)
    enqueue_on_commit(property_reindex_run, job_id, True)
    return _job_response(request, job_id)


def _job_response(request: HttpRequest, job_id: str) -> HttpResponse:
    # htmx swaps the polling fragment in; without JavaScript the whole page carries it.
    context = {"job": progress_get(job_id), "job_id": job_id}
    if request.htmx:
        return render(request, "dashboard/_listings_job.html", context)
    return render(request, "dashboard/listings.html", _listings_context(request, **context))


@org_admin_required
def listings_progress(request: HttpRequest, job_id: str) -> HttpResponse:
    """htmx: the import's or reindex's progress ("N of M"), then its result; polled every second until done."""
    job = progress_get(job_id)
    if job is None:
        raise Http404("No such job (it expired, or belongs to another organization).")
    return render(request, "dashboard/_listings_job.html", {"job": job, "job_id": job_id})


# --- webhooks ---------------------------------------------------------------------------------------


def _webhooks_page(request: HttpRequest, form: WebhookEndpointForm | None = None, status: int = 200) -> HttpResponse:
    delivery_status = request.GET.get("status", "")
    if delivery_status not in DeliveryStatus.values:
        delivery_status = ""
    deliveries = webhook_delivery_list(filters={"status": delivery_status}).select_related("endpoint")
    context = _context(
        request,
        "webhooks",
        endpoints=webhook_endpoint_list(),
        deliveries=deliveries[:DELIVERIES_SHOWN],
        status=delivery_status,
        statuses=DeliveryStatus.choices,
        form=form or WebhookEndpointForm(),
    )
    return render(request, "dashboard/webhooks.html", context, status=status)


@org_member_required
def webhooks(request: HttpRequest) -> HttpResponse:
    return _webhooks_page(request)


def _endpoint_or_404(pk: int):
    endpoint = webhook_endpoint_get(endpoint_id=pk)
    if endpoint is None:
        raise Http404("No such endpoint.")
    return endpoint


@org_admin_required
@require_POST
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookEndpointForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = webhook_endpoint_create(organization=request.tenant, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(exc.attr if exc.attr in form.fields else None, exc.detail)
        else:
            # Shown once, on the next page only, as the API does: receivers need it to check signatures.
            messages.success(
                request, f"Signing secret of {endpoint.url} (copy it now, it is not shown again): {secret}", "secret"
            )
            return redirect("dashboard:webhooks")
    return _webhooks_page(request, form=form, status=400)


@org_admin_required
@require_POST
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint, secret = webhook_endpoint_secret_rotate(endpoint=_endpoint_or_404(pk))
    messages.success(
        request,
        f"New signing secret of {endpoint.url} (copy it now; the previous one signs for 24 more hours): {secret}",
        "secret",
    )
    return redirect("dashboard:webhooks")


@org_admin_required
@require_POST
def webhook_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = webhook_endpoint_update(endpoint=_endpoint_or_404(pk), is_active=False)
    messages.success(request, f"{endpoint.url} no longer receives events.")
    return redirect("dashboard:webhooks")


@org_admin_required
@require_POST
def webhook_replay(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = webhook_delivery_get(delivery_id=pk)
    if delivery is None:
        raise Http404("No such delivery.")
    try:
        webhook_delivery_replay(delivery=delivery)
    except ApplicationError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"Delivery {delivery.webhook_id} queued again.")
    return redirect("dashboard:webhooks")


# --- team -------------------------------------------------------------------------------------------


def _team_page(request: HttpRequest, form: InviteForm | None = None, status: int = 200) -> HttpResponse:
    context = _context(
        request,
        "team",
        memberships=membership_list(organization=request.tenant),
        roles=Role.choices,
        form=form or InviteForm(),
        password_reset_url=_password_reset_url(request),
    )
    return render(request, "dashboard/team.html", context, status=status)


@org_member_required
def team(request: HttpRequest) -> HttpResponse:
    return _team_page(request)


@org_admin_required
@require_POST
def team_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if form.is_valid():
        if form.cleaned_data["role"] == Role.OWNER and not role_at_least(request_role(request), Role.OWNER):
            form.add_error("role", "Only an owner can add another owner.")
        else:
            try:
                membership = membership_invite(organization=request.tenant, **form.cleaned_data)
            except ApplicationError as exc:
                # The plan's seats limit lands here too, as an error of the whole form.
                form.add_error(exc.attr if exc.attr in form.fields else None, exc.detail)
            else:
                joined = f"{membership.user.email} joined as {membership.get_role_display()}."
                if invitation_send(request=request, membership=membership):
                    messages.success(request, f"{joined} We emailed them an invitation.")
                else:
                    messages.warning(
                        request,
                        f"{joined} The invitation email could not be sent; they can sign in after choosing a "
                        "password with “Forgot your password?” on the sign-in page.",
                    )
                return redirect("dashboard:team")
    return _team_page(request, form=form, status=400)


def _membership_or_404(request: HttpRequest, pk: int):
    membership = membership_get(organization=request.tenant, pk=pk)
    if membership is None:
        raise Http404("No such member.")
    return membership


@org_owner_required
@require_POST
def team_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership_or_404(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
        return redirect("dashboard:team")
    try:
        membership_role_change(membership=membership, role=form.cleaned_data["role"])
    except ApplicationError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"{membership.user.email} is now {membership.get_role_display()}.")
    return redirect("dashboard:team")


@org_owner_required
@require_POST
def team_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _membership_or_404(request, pk)
    try:
        membership_delete(membership=membership)
    except ApplicationError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, f"{membership.user.email} was removed.")
    return redirect("dashboard:team")


# --- campaigns --------------------------------------------------------------------------------------


def _form_error(form, exc: ApplicationError) -> None:
    form.add_error(exc.attr if exc.attr in form.fields else None, exc.detail)


def _campaigns_page(request: HttpRequest, form: CampaignForm | None = None, status: int = 200) -> HttpResponse:
    # As the API does: every organization sees its welcome sequence from its first look on.
    welcome_sequence_ensure(organization=request.tenant)
    context = _context(request, "campaigns", campaigns=campaign_list(), form=form or CampaignForm())
    return render(request, "dashboard/campaigns.html", context, status=status)


@org_member_required
def campaigns(request: HttpRequest) -> HttpResponse:
    return _campaigns_page(request)


@org_admin_required
@require_POST
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST)
    if form.is_valid():
        try:
            campaign = campaign_create(organization=request.tenant, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Campaign “{campaign.name}” created; add its steps.")
            return redirect("dashboard:campaign", pk=campaign.pk)
    return _campaigns_page(request, form=form, status=400)


def _campaign_or_404(pk: int):
    campaign = campaign_list().filter(pk=pk).first()
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def _campaign_page(
    request: HttpRequest, campaign, *, step_forms: dict | None = None, send_form=None, status: int = 200
) -> HttpResponse:
    steps = list(campaign_step_list(campaign=campaign))
    bound = step_forms or {}
    rows = [
        (step, bound.get(step.pk) or StepForm(prefix=f"step-{step.pk}", initial=_step_initial(step))) for step in steps
    ]
    context = _context(
        request,
        "campaigns",
        campaign=campaign,
        steps=rows,
        new_step_form=bound.get("new") or StepForm(prefix="new"),
        send_form=send_form or SendForm(),
        progress=campaign_progress(campaign=campaign),
    )
    return render(request, "dashboard/campaign.html", context, status=status)


def _step_initial(step) -> dict:
    return {"subject": step.subject, "body": step.body, "delay_days": step.delay_days}


@org_member_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _campaign_page(request, _campaign_or_404(pk))


@org_admin_required
@require_POST
def campaign_step_save(request: HttpRequest, pk: int, step_pk: int | None = None) -> HttpResponse:
    """Edit one step (subject, body, day), or add one at the end when there is no step_pk."""
    campaign = _campaign_or_404(pk)
    step = None
    if step_pk is not None:
        step = campaign_step_list(campaign=campaign).filter(pk=step_pk).first()
        if step is None:
            raise Http404("No such step.")
    key = "new" if step is None else step.pk
    form = StepForm(request.POST, prefix="new" if step is None else f"step-{step.pk}")
    if form.is_valid():
        try:
            if step is None:
                campaign_step_create(campaign=campaign, **form.cleaned_data)
            else:
                campaign_step_update(step=step, **form.cleaned_data)
        except ApplicationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Step saved.")
            return redirect("dashboard:campaign", pk=campaign.pk)
    return _campaign_page(request, campaign, step_forms={key: form}, status=400)


@org_admin_required
@require_POST
def campaign_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign_or_404(pk)
    form = SendForm(request.POST)
    if form.is_valid():
        try:
            queued = campaign_send(campaign=campaign, filters=form.lead_filters())
        except ApplicationError as exc:
            # Its errors are about the campaign (paused, no steps), not the lead filter of the same names.
            form.add_error(None, exc.detail)
        else:
            messages.success(request, f"Sending to {queued} leads (leads without an email or already sent to skip).")
            return redirect("dashboard:campaign", pk=campaign.pk)
    return _campaign_page(request, campaign, send_form=form, status=400)


# --- settings ---------------------------------------------------------------------------------------

SETTINGS_FORMS = {"brand": BrandForm, "persona": PersonaForm}


@org_admin_required
def settings_view(request: HttpRequest) -> HttpResponse:
    organization = request.tenant
    forms = {
        "brand": BrandForm(instance=organization),
        "persona": PersonaForm(instance=organization),
        "origins": OriginsForm(initial={"allowed_origins": "\n".join(organization.allowed_origins)}),
    }
    part = request.POST.get("part")
    if request.method == "POST" and part in forms:
        # Forms only check shapes; organization_update validates and writes (its errors land on the field).
        form = OriginsForm(request.POST) if part == "origins" else SETTINGS_FORMS[part](request.POST)
        forms[part] = form
        if form.is_valid():
            try:
                organization_update(organization=organization, **form.cleaned_data)
            except ApplicationError as exc:
                organization.refresh_from_db()
                field = exc.attr if exc.attr in form.fields else None
                form.add_error(field, exc.detail)
            else:
                messages.success(request, "Saved.")
                return redirect("dashboard:settings")
    keys = OrganizationAPIKey.objects.filter(organization=organization).order_by("-created")
    context = _context(request, "settings", forms=forms, api_keys=keys, key_form=ApiKeyForm())
    return render(request, "dashboard/settings.html", context, status=400 if request.method == "POST" else 200)


@org_admin_required
@require_POST
def api_key_create_view(request: HttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            _, raw = api_key_create(
                organization=request.tenant, name=form.cleaned_data["name"], created_by=request.user
            )
        except ApplicationError as exc:
            messages.error(request, exc.detail)
        else:
            # Shown once, on the next page only: only the hash is stored.
            messages.success(request, f"New API key (copy it now, it is not shown again): {raw}", extra_tags="secret")
    else:
        messages.error(request, "An API key needs a name of at most 50 characters.")
    return redirect("dashboard:settings")


@org_admin_required
@require_POST
def api_key_revoke_view(request: HttpRequest, pk: str) -> HttpResponse:
    key = OrganizationAPIKey.objects.filter(organization=request.tenant, pk=pk).first() if text_storable(pk) else None
    if key is None:
        raise Http404("No such key.")
    api_key_revoke(api_key=key)
    messages.success(request, f"Key “{key.name}” revoked.")
    return redirect("dashboard:settings")


# --- billing ----------------------------------------------------------------------------------------


@org_member_required
def billing(request: HttpRequest) -> HttpResponse:
    subscription = subscription_get(organization=request.tenant)
    data = subscription_data(subscription=subscription) if subscription else None
    usage_rows = []
    if data:
        for key, limit in data["entitlements"].items():
            used = data["usage"].get(key)
            percent = min(100, round(100 * used / limit)) if used is not None and limit else None
            usage_rows.append({"key": key.replace("_", " "), "used": used, "limit": limit, "percent": percent})
    context = _context(
        request,
        "billing",
        subscription=subscription,
        data=data,
        usage_rows=usage_rows,
        plans=Plan.objects.all(),
        banner=billing_banner(request.tenant),
        checkout=request.GET.get("checkout", ""),
    )
    return render(request, "dashboard/billing.html", context)


@org_owner_required
@require_POST
def billing_checkout(request: HttpRequest) -> HttpResponse:
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a plan.")
        return redirect("dashboard:billing")
    try:
        url = billing_checkout_start(organization=request.tenant, plan_code=form.cleaned_data["plan"])
    except ApplicationError as exc:
        messages.error(request, exc.detail)
        return redirect("dashboard:billing")
    return redirect(url)


@org_owner_required
@require_POST
def billing_portal(request: HttpRequest) -> HttpResponse:
    try:
        url = billing_portal_start(organization=request.tenant)
    except ApplicationError as exc:
        messages.error(request, exc.detail)
        return redirect("dashboard:billing")
    return redirect(url)
