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
    path("listings/", views.listings, name="listings"),
    path("listings/import/", views.listings_import, name="listings-import"),
    path("listings/reindex/", views.listings_reindex, name="listings-reindex"),
    path("listings/progress/<str:job_id>/", views.listings_progress, name="listings-progress"),
    path("webhooks/", views.webhooks, name="webhooks"),
    path("webhooks/endpoints/", views.webhook_create, name="webhook-create"),
    path("webhooks/endpoints/<int:pk>/rotate/", views.webhook_rotate, name="webhook-rotate"),
    path("webhooks/endpoints/<int:pk>/deactivate/", views.webhook_deactivate, name="webhook-deactivate"),
    path("webhooks/deliveries/<int:pk>/replay/", views.webhook_replay, name="webhook-replay"),
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team-invite"),
    path("team/<int:pk>/role/", views.team_role, name="team-role"),
    path("team/<int:pk>/remove/", views.team_remove, name="team-remove"),
    path("campaigns/", views.campaigns, name="campaigns"),
    path("campaigns/new/", views.campaign_create_view, name="campaign-create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/steps/", views.campaign_step_save, name="campaign-step-create"),
    path("campaigns/<int:pk>/steps/<int:step_pk>/", views.campaign_step_save, name="campaign-step"),
    path("campaigns/<int:pk>/send/", views.campaign_send_view, name="campaign-send"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/api-keys/", views.api_key_create_view, name="api-key-create"),
    path("settings/api-keys/<str:pk>/revoke/", views.api_key_revoke_view, name="api-key-revoke"),
    path("billing/", views.billing, name="billing"),
    path("billing/checkout/", views.billing_checkout, name="billing-checkout"),
    path("billing/portal/", views.billing_portal, name="billing-portal"),
]
