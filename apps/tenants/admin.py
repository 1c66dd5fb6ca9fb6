"""Admin of organizations and domains."""

from django.contrib import admin

from apps.tenants.models import Domain, Organization


class DomainInline(admin.TabularInline):
    model = Domain
    extra = 0


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "schema_name", "created_at")
    search_fields = ("slug", "name")
    readonly_fields = ("schema_name", "slug", "created_at", "updated_at")
    inlines = [DomainInline]
