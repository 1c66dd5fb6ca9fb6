"""Routes of onboarding on the public host."""

from django.urls import path

from apps.onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset, name="password-reset"),
    path("password-reset/sent/", views.password_reset_done, name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", views.password_reset_confirm, name="password-reset-confirm"),
    path("password-reset/done/", views.password_reset_complete, name="password-reset-complete"),
    path("onboarding/", views.start, name="start"),
    path("onboarding/step1/", views.step1, name="step1"),
    path("onboarding/slug-check/", views.slug_check, name="slug-check"),
    path("onboarding/step2/", views.step2, name="step2"),
    path("onboarding/step2/preview/", views.step2_preview, name="step2-preview"),
    path("onboarding/step3/", views.step3, name="step3"),
    path("onboarding/step4/", views.step4, name="step4"),
    path("onboarding/step5/", views.step5, name="step5"),
    path("onboarding/step5/progress/<str:job_id>/", views.step5_progress, name="step5-progress"),
    path("onboarding/done/", views.done, name="done"),
    path("onboarding/dashboard/", views.dashboard_link, name="dashboard-link"),
]
