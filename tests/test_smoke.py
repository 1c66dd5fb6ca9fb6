"""Smoke: the test database has the platform, and an organization can be created in a test."""

from apps.billing.models import Plan


def test_platform_and_org(org, other_org):
    assert set(Plan.objects.values_list("code", flat=True)) == {"starter", "pro", "agency"}
    assert org.schema_name == "acme" and other_org.schema_name == "globex"
