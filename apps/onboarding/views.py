"""Pages of the public host for a new agency: sign up, log in, the five-step wizard and its end page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.accounts.decorators import public_route
from apps.billing.models import Plan
from apps.billing.services import billing_checkout_start
from apps.core.errors import ApplicationError
from apps.onboarding import services
from apps.onboarding.auth import LoginForm, ResetForm
from apps.onboarding.forms import BrandForm, ChannelsForm, ImportForm, PersonaForm, SignupForm
from apps.onboarding.models import OnboardingState
from apps.tenants.models import Organization
from apps.tenants.services import slug_validate

STEP_NAMES = ["Brand", "Assistant", "Channels", "Plan", "Listings"]


def _public_only(request: HttpRequest) -> None:
    tenant = getattr(request, "tenant", None)
    if tenant is not None and not tenant.is_public:
        raise Http404("Onboarding lives on the platform's own host.")


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Public host only; anonymous visitors go to the sign-up page first (and come back here)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        _public_only(request)
        if not request.user.is_authenticated:
            return redirect(f"{reverse('onboarding:signup')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    # Anyone may reach these pages; each one checks the login itself (above).
    return public_route(wrapped)


def _field_error(form, exc: ApplicationError) -> None:
    form.add_error(exc.attr if exc.attr in form.fields else None, exc.detail)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    return target if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}) else default


def _port_suffix(request: HttpRequest) -> str:
    port = request.get_port()
    return "" if str(port) == {"http": "80", "https": "443"}.get(request.scheme) else f":{port}"


def public_base_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{settings.BASE_DOMAIN}{_port_suffix(request)}"


def tenant_base_url(request: HttpRequest, organization: Organization) -> str:
    return f"{request.scheme}://{organization.host}{_port_suffix(request)}"


# --- account ----------------------------------------------------------------------------------------


@public_route
def signup(request: HttpRequest) -> HttpResponse:
    _public_only(request)
    next_url = _safe_next(request, reverse("onboarding:start"))
    if request.user.is_authenticated:
        return redirect(next_url)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(email=form.cleaned_data["email"], password=form.cleaned_data["password"])
        except ApplicationError as exc:
            _field_error(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url)
    return render(
        request, "onboarding/signup.html", {"form": form, "next": next_url}, status=400 if form.errors else 200
    )


@public_route
def login_view(request: HttpRequest) -> HttpResponse:
    _public_only(request)
    next_url = _safe_next(request, reverse("onboarding:start"))
    form = LoginForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        return redirect(next_url)
    status = 429 if form.has_error("__all__", "rate_limited") else 200
    return render(request, "onboarding/login.html", {"form": form, "next": next_url}, status=status)


@public_route
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("onboarding:login")


class PasswordResetView(auth_views.PasswordResetView):
    """Mails a one-time link to the public host; an unknown address gets the same answer and no mail."""

    form_class = ResetForm
    template_name = "onboarding/password_reset_form.html"
    email_template_name = "onboarding/password_reset_email.txt"
    subject_template_name = "onboarding/password_reset_subject.txt"
    success_url = reverse_lazy("onboarding:password-reset-done")

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        _public_only(request)
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        self.extra_email_context = {"public_base_url": public_base_url(self.request)}
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", "rate_limited"):
            response.status_code = 429
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "onboarding/password_reset_confirm.html"
    success_url = reverse_lazy("onboarding:password-reset-complete")

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        _public_only(request)
        return super().dispatch(request, *args, **kwargs)


password_reset = public_route(PasswordResetView.as_view())
password_reset_done = public_route(
    auth_views.PasswordResetDoneView.as_view(template_name="onboarding/password_reset_done.html")
)
password_reset_confirm = public_route(PasswordResetConfirmView.as_view())
password_reset_complete = public_route(
    auth_views.PasswordResetCompleteView.as_view(template_name="onboarding/password_reset_complete.html")
)


# --- the wizard -------------------------------------------------------------------------------------


def _wizard(request: HttpRequest, state: OnboardingState, step: int, form, status: int = 200, **extra) -> HttpResponse:
    context = {
        "state": state,
        "organization": state.organization,
        "step": step,
        "steps": [
            {"number": n, "name": name, "done": n <= state.completed_step, "reachable": _reachable(state, n)}
            for n, name in enumerate(STEP_NAMES, start=1)
        ],
        "form": form,
        "back": reverse(f"onboarding:step{step - 1}") if step > 1 else None,
        **extra,
    }
    return render(request, f"onboarding/step{step}.html", context, status=status)


def _reachable(state: OnboardingState, step: int) -> bool:
    return step <= state.completed_step + 1 and (step == 1 or state.organization is not None)


def _gate(request: HttpRequest, step: int) -> tuple[OnboardingState, HttpResponse | None]:
    state = services.onboarding_state_get(user=request.user)
    if not _reachable(state, step):
        return state, redirect("onboarding:start")
    return state, None


@signed_in
def start(request: HttpRequest) -> HttpResponse:
    """Resume: the first step not saved yet, or the end page."""
    state = services.onboarding_state_get(user=request.user)
    if state.next_step is None:
        return redirect("onboarding:done")
    return redirect(f"onboarding:step{state.next_step}")


@signed_in
def step1(request: HttpRequest) -> HttpResponse:
    state, gate = _gate(request, 1)
    if gate:
        return gate
    organization = state.organization
    initial = (
        {"name": organization.name, "slug": organization.slug, "primary_color": organization.primary_color,
         "logo_url": organization.logo_url}
        if organization else None
    )  # fmt: skip
    form = BrandForm(request.POST or None, initial=initial)
    if organization is not None:
        form.fields["slug"].disabled = True  # the address never changes once the schema exists
    if request.method == "POST" and form.is_valid():
        try:
            services.onboarding_brand_save(state=state, **form.cleaned_data)
        except ApplicationError as exc:
            _field_error(form, exc)
        else:
            return redirect("onboarding:step2")
    return _wizard(request, state, 1, form, status=400 if form.errors else 200)


@signed_in
def slug_check(request: HttpRequest) -> HttpResponse:
    """htmx: whether the typed slug is free (shown under the field as the user types)."""
    slug = (request.GET.get("slug") or "").strip().lower()
    if not slug:
        return HttpResponse("")
    try:
        slug = slug_validate(slug)
    except ApplicationError as exc:
        return render(request, "onboarding/_slug.html", {"ok": False, "detail": exc.detail})
    host = f"{slug}.{settings.BASE_DOMAIN}"
    return render(request, "onboarding/_slug.html", {"ok": True, "detail": f"{host} is available."})


@signed_in
def step2(request: HttpRequest) -> HttpResponse:
    state, gate = _gate(request, 2)
    if gate:
        return gate
    organization = state.organization
    form = PersonaForm(
        request.POST or None,
        initial={field: getattr(organization, field) for field in PersonaForm.base_fields},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.onboarding_persona_save(state=state, **form.cleaned_data)
        except ApplicationError as exc:
            _field_error(form, exc)
        else:
            return redirect("onboarding:step3")
    return _wizard(request, state, 2, form, status=400 if form.errors else 200)


@signed_in
@require_POST
def step2_preview(request: HttpRequest) -> HttpResponse:
    """htmx: the assistant's answer to a test question with the persona as typed (not saved)."""
    state, gate = _gate(request, 2)
    if gate:
        return gate
    form = PersonaForm(request.POST)
    persona = form.cleaned_data if form.is_valid() else {}
    question = (request.POST.get("question") or "Hello").strip()[:500]
    answer = services.persona_preview(organization=state.organization, persona=persona, question=question)
    return render(request, "onboarding/_preview.html", {"question": question, "answer": answer, "persona": persona})


@signed_in
def step3(request: HttpRequest) -> HttpResponse:
    state, gate = _gate(request, 3)
    if gate:
        return gate
    organization = state.organization
    form = ChannelsForm(request.POST or None, initial={"allowed_origins": "\n".join(organization.allowed_origins)})
    if request.method == "POST" and form.is_valid():
        try:
            services.onboarding_channels_save(state=state, **form.cleaned_data)
        except ApplicationError as exc:
            _field_error(form, exc)
        else:
            return redirect("onboarding:step4")
    return _wizard(request, state, 3, form, status=400 if form.errors else 200)


@signed_in
def step4(request: HttpRequest) -> HttpResponse:
    state, gate = _gate(request, 4)
    if gate:
        return gate
    error = None
    if request.method == "POST":
        plan = request.POST.get("plan", "")
        if plan == "trial":
            services.onboarding_plan_save(state=state, plan="trial")
            return redirect("onboarding:step5")
        try:
            url = billing_checkout_start(organization=state.organization, plan_code=plan)
        except ApplicationError as exc:
            error = exc.detail
        else:
            services.onboarding_plan_save(state=state, plan=plan)
            return redirect(url)
    current = getattr(state.organization, "subscription", None)
    return _wizard(
        request, state, 4, None, status=400 if error else 200, plans=Plan.objects.all(), error=error, current=current
    )


@signed_in
def step5(request: HttpRequest) -> HttpResponse:
    state, gate = _gate(request, 5)
    if gate:
        return gate
    form = ImportForm(request.POST or None, request.FILES or None)
    job_id = None
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action")
        upload = form.cleaned_data.get("file")
        try:
            if action == "skip":
                services.onboarding_skip_import(state=state)
                return redirect("onboarding:done")
            if action == "sample":
                job_id = services.onboarding_import_start(state=state, content=None)
            elif upload is None:
                form.add_error("file", "Choose a CSV or JSON file, or load the sample listings.")
            elif upload.size > settings.PROPERTY_IMPORT_MAX_BYTES:
                form.add_error("file", "The file is too large.")
            else:
                job_id = services.onboarding_import_start(state=state, content=upload.read(), filename=upload.name)
        except ApplicationError as exc:
            _field_error(form, exc)
    template_status = 400 if form.errors else 200
    if job_id is None:
        return _wizard(request, state, 5, form, status=template_status)
    job = services.onboarding_import_progress(state=state, job_id=job_id)
    if request.htmx:
        return render(request, "onboarding/_import_job.html", {"job": job, "job_id": job_id})
    return _wizard(request, state, 5, form, job=job, job_id=job_id)


@signed_in
def step5_progress(request: HttpRequest, job_id: str) -> HttpResponse:
    """htmx: the import's progress ("N of M rows"), then its result; polled every second until done."""
    state, gate = _gate(request, 5)
    if gate:
        return gate
    job = services.onboarding_import_progress(state=state, job_id=job_id)
    if job is None:
        raise Http404("No such import (it expired, or belongs to another organization).")
    return render(request, "onboarding/_import_job.html", {"job": job, "job_id": job_id})


@signed_in
def done(request: HttpRequest) -> HttpResponse:
    state = services.onboarding_state_get(user=request.user)
    if state.next_step is not None:
        return redirect("onboarding:start")
    organization = state.organization
    snippet = f'<script src="{public_base_url(request)}/embed/{organization.slug}.js" async></script>'
    context = {
        "state": state,
        "organization": organization,
        "snippet": snippet,
        "loader": f"/embed/{organization.slug}.js",
        "dashboard_url": f"{tenant_base_url(request, organization)}/dashboard/",
    }
    return render(request, "onboarding/done.html", context)


@signed_in
@require_POST
def dashboard_link(request: HttpRequest) -> HttpResponse:
    """Send the new owner to their dashboard, logged in there by a one-time signed link (sessions are per host)."""
    state = services.onboarding_state_get(user=request.user)
    if state.organization is None:
        return redirect("onboarding:start")
    try:
        token = services.dashboard_login_token(user=request.user, organization=state.organization)
    except ApplicationError as exc:
        return HttpResponse(exc.detail, status=403, content_type="text/plain")
    base = tenant_base_url(request, state.organization)
    return redirect(f"{base}/dashboard/login/link/?{urlencode({'token': token})}")
