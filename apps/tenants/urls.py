"""Tenant-host API routes of the organization itself."""

from django.urls import path

from apps.tenants.apis import OrganizationView

urlpatterns = [path("organization/", OrganizationView.as_view(), name="organization")]
