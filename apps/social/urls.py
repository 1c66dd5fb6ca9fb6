"""Tenant-host routes of the Meta channels (included under /api/connect/ by config/urls_tenant.py)."""

from django.urls import path, re_path

from apps.social.apis import ConnectView, SocialAccountDetailView, SocialAccountListView

urlpatterns = [
    path("accounts/", SocialAccountListView.as_view(), name="social-accounts"),
    path("accounts/<int:pk>/", SocialAccountDetailView.as_view(), name="social-account"),
    re_path(r"^(?P<platform>facebook|instagram)/$", ConnectView.as_view(), name="social-connect"),
]
