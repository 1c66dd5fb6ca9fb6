"""Routes of the dashboard on an organization's host (`/dashboard/…`)."""

from django.urls import path

from apps.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("login/", views.login_view, name="login"),
    path("login/link/", views.login_link, name="login-link"),
    path("logout/", views.logout_view, name="logout"),
    path("conversations/", views.conversations, name="conversations"),
    path("conversations/<int:pk>/", views.conversation_detail, name="conversation"),
    path("conversations/<int:pk>/takeover/", views.conversation_takeover, name="conversation-takeover"),
    path("conversations/<int:pk>/reply/", views.conversation_reply, name="conversation-reply"),
    path("conversations/<int:pk>/release/", views.conversation_release_view, name="conversation-release"),
    path("leads/", views.leads, name="leads"),
    path("leads/export.csv", views.leads_export, name="leads-export"),
    path("leads/<int:pk>/", views.lead_detail, name="lead"),
    path("leads/<int:pk>/status/", views.lead_status, name="lead-status"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/api-keys/", views.api_key_create_view, name="api-key-create"),
    path("settings/api-keys/<str:pk>/revoke/", views.api_key_revoke_view, name="api-key-revoke"),
    path("billing/", views.billing, name="billing"),
    path("billing/checkout/", views.billing_checkout, name="billing-checkout"),
    path("billing/portal/", views.billing_portal, name="billing-portal"),
]
