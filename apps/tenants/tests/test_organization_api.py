"""GET/PATCH /api/v1/organization/: roles, keys, isolation between organizations, and the error shape."""

from __future__ import annotations

import pytest

from apps.accounts.services import api_key_create, api_key_revoke
from apps.tenants.models import Organization

URL = "/api/v1/organization/"


def _error(response, status: int, code: str, attr=None, type_: str = "client_error") -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] == type_
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["attr"] == attr
    return body


def test_member_reads_own_organization(org, client_for, member_of):
    response = client_for(org, user=member_of(org, "member")).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "acme" and body["name"] == "Acme Realty"
    assert set(body) >= {
        "slug",
        "name",
        "primary_color",
        "logo_url",
        "persona_name",
        "persona_tone",
        "persona_instructions",
        "greeting",
        "allowed_origins",
    }


@pytest.mark.parametrize(("role", "status"), [("member", 403), ("admin", 200), ("owner", 200)])
def test_patch_needs_admin(org, client_for, member_of, role, status):
    response = client_for(org, user=member_of(org, role)).patch(URL, {"name": "Acme Homes"}, format="json")
    assert response.status_code == status, response.content
    org.refresh_from_db()
    assert org.name == ("Acme Homes" if status == 200 else "Acme Realty")
    if status == 403:
        _error(response, 403, "permission_denied")


def test_api_key_acts_as_admin(org, client_for, api_key):
    client = client_for(org, api_key=api_key)
    response = client.patch(
        URL,
        {"persona_name": "Rita", "allowed_origins": ["https://www.ACME.com"], "primary_color": "#112233"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["allowed_origins"] == ["https://www.acme.com"]
    assert client.get(URL).json()["persona_name"] == "Rita"


def test_slug_is_read_only(org, client_for, api_key):
    response = client_for(org, api_key=api_key).patch(URL, {"slug": "evil"}, format="json")
    assert response.status_code == 200
    assert Organization.objects.get(pk=org.pk).slug == "acme"


def test_other_organizations_key_is_401_and_changes_nothing(org, other_org, client_for):
    _, other_key = api_key_create(organization=other_org, name="theirs")
    client = client_for(org, api_key=other_key)
    _error(client.get(URL), 401, "authentication_failed")
    _error(client.patch(URL, {"name": "Hijacked"}, format="json"), 401, "authentication_failed")
    org.refresh_from_db()
    assert org.name == "Acme Realty"


def test_other_organizations_member_is_403(org, other_org, client_for, member_of):
    outsider = member_of(other_org, "owner", email="boss@globex.test")
    client = client_for(org, user=outsider)
    _error(client.get(URL), 403, "permission_denied")
    _error(client.patch(URL, {"name": "Hijacked"}, format="json"), 403, "permission_denied")
    org.refresh_from_db()
    assert org.name == "Acme Realty"


def test_key_on_public_host_is_401(org, api_key):
    from rest_framework.test import APIClient

    client = APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    response = client.get(URL)
    _error(response, 401, "not_authenticated")
    assert "acme" not in response.content.decode()


def test_no_credentials_is_401_with_challenge(org, client_for):
    response = client_for(org).get(URL)
    _error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


def test_wrong_and_revoked_keys_are_401(org, client_for):
    _error(client_for(org, api_key="nope.nope").get(URL), 401, "authentication_failed")
    key_obj, key = api_key_create(organization=org, name="old")
    assert client_for(org, api_key=key).get(URL).status_code == 200
    api_key_revoke(api_key=key_obj)
    _error(client_for(org, api_key=key).get(URL), 401, "authentication_failed")


def test_validation_errors_name_the_field(org, client_for, api_key):
    response = client_for(org, api_key=api_key).patch(
        URL, {"primary_color": "blue", "allowed_origins": ["ftp://x.test"], "logo_url": "not a url"}, format="json"
    )
    body = _error(response, 400, "invalid", attr="primary_color", type_="validation_error")
    attrs = {error["attr"] for error in body["errors"]}
    assert attrs == {"primary_color", "allowed_origins.0", "logo_url"}


@pytest.mark.parametrize("debug", [False, True])
def test_unknown_api_route_is_json_404(org, client_for, api_key, settings, debug):
    # With DEBUG (`make run`), Django answers a URL no route matches with its HTML page: not under /api/.
    settings.DEBUG = debug
    for path in ("/api/v1/does-not-exist/", "/api/v1/properties/abc/", "/api/v2/"):
        response = client_for(org, api_key=api_key).get(path)
        _error(response, 404, "not_found")


def test_unknown_tenant_host_is_404(db):
    from rest_framework.test import APIClient

    response = APIClient(HTTP_HOST="nobody.localhost").get(URL)
    body = _error(response, 404, "not_found")
    assert "nobody.localhost" in body["errors"][0]["detail"]
    page = APIClient(HTTP_HOST="nobody.localhost").get("/dashboard/")
    assert page.status_code == 404 and b"There is no agency" in page.content


def test_forced_500_has_the_error_shape(org, client_for, api_key, monkeypatch):
    from apps.tenants import apis

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(apis.OrganizationSerializer, "to_representation", explode)
    client = client_for(org, api_key=api_key)
    client.raise_request_exception = False
    response = client.get(URL)
    body = _error(response, 500, "error", type_="server_error")
    assert "boom" not in str(body)


def test_non_drf_500_under_api_is_json(org, client_for, monkeypatch, settings):
    """An error outside DRF (in middleware) still answers the contract's shape under /api/."""
    from apps.accounts import selectors

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(selectors, "membership_role", explode)
    client = client_for(org, user=None)
    client.raise_request_exception = False
    client.force_login(_user(org))
    response = client.get(URL)
    _error(response, 500, "error", type_="server_error")


def _user(org):
    from apps.accounts.models import User

    return User.objects.get(email="owner@acme.test")


def test_api_key_hashed_at_rest_and_last_used(org, client_for):
    from apps.accounts.models import OrganizationAPIKey

    key_obj, key = api_key_create(organization=org, name="ci")
    stored = OrganizationAPIKey.objects.get(pk=key_obj.pk)
    assert key not in (stored.hashed_key, stored.id) and key.split(".")[1] not in stored.hashed_key
    assert key.startswith(stored.prefix + ".")
    assert stored.last_used_at is None
    client_for(org, api_key=key).get(URL)
    stored.refresh_from_db()
    assert stored.last_used_at is not None
