"""POST /api/connect/facebook|instagram/, the accounts list and disconnect: tokens checked, encrypted, routed."""

from __future__ import annotations

from django.db import connection
from django_tenants.utils import tenant_context

from apps.billing.models import Subscription
from apps.social import crypto
from apps.social.models import AccountStatus, SocialAccount
from apps.social.tests.conftest import connect, message_item, webhook_payload
from apps.socialrouting.models import InboundEvent, SocialRoute

FACEBOOK = "/api/connect/facebook/"
INSTAGRAM = "/api/connect/instagram/"
ACCOUNTS = "/api/connect/accounts/"


def _admin(org, client_for, member_of):
    return client_for(org, user=member_of(org, "admin"))


def _raw_token_column(org, account_id: int) -> str:
    with tenant_context(org), connection.cursor() as cursor:
        cursor.execute("SELECT access_token FROM social_socialaccount WHERE id = %s", [account_id])
        return cursor.fetchone()[0]


def test_connect_checks_the_token_subscribes_the_page_and_stores_it_encrypted(org, graph, client_for, member_of):
    page = graph.add_page("1001", name="Acme Realty", token="EAAB-page-token-1001")

    response = _admin(org, client_for, member_of).post(FACEBOOK, {"page_id": "1001", "access_token": page.token})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["platform"] == "facebook" and body["page_id"] == body["external_id"] == "1001"
    assert body["name"] == "Acme Realty" and body["status"] == "connected"
    assert "access_token" not in body and page.token not in response.content.decode()
    assert page.subscribed
    subscribe = next(r for r in graph.requests if r.path == "/1001/subscribed_apps")
    assert subscribe.method == "POST" and subscribe.query["subscribed_fields"] == "messages,messaging_postbacks"
    # Encrypted at rest: the column holds a Fernet token that only FIELD_ENCRYPTION_KEY opens.
    raw = _raw_token_column(org, body["id"])
    assert raw and raw != page.token and page.token not in raw
    assert crypto.token_decrypt(raw) == page.token
    # Routed to this organization, in the public schema.
    assert SocialRoute.objects.get(platform="facebook", external_id="1001").organization == org


def test_a_user_token_yields_the_page_token(org, graph, client_for, member_of):
    graph.add_page("1001", token="page-token")
    graph.add_user("user-token", pages=["1001"])
    response = _admin(org, client_for, member_of).post(FACEBOOK, {"page_id": "1001", "access_token": "user-token"})
    assert response.status_code == 201
    assert crypto.token_decrypt(_raw_token_column(org, response.json()["id"])) == "page-token"


def test_an_oauth_code_is_exchanged_through_the_graph_api(org, graph, client_for, member_of):
    graph.add_page("1001", token="page-token")
    graph.add_user("short-user-token", pages=["1001"], code="code-123")

    response = _admin(org, client_for, member_of).post(
        FACEBOOK, {"page_id": "1001", "code": "code-123", "redirect_uri": "https://acme.example.com/done"}
    )

    assert response.status_code == 201, response.json()
    exchange, long_lived = [r for r in graph.requests if r.path == "/oauth/access_token"]
    assert exchange.query["code"] == "code-123" and exchange.query["client_secret"] == "app-secret"
    assert exchange.query["redirect_uri"] == "https://acme.example.com/done"
    assert long_lived.query["grant_type"] == "fb_exchange_token"
    assert crypto.token_decrypt(_raw_token_column(org, response.json()["id"])) == "page-token"


def test_a_bad_token_or_code_is_refused_and_nothing_is_stored(org, graph, client_for, member_of):
    graph.add_page("1001")
    client = _admin(org, client_for, member_of)

    bad_token = client.post(FACEBOOK, {"page_id": "1001", "access_token": "not-a-token"})
    bad_code = client.post(FACEBOOK, {"page_id": "1001", "code": "nope"})
    neither = client.post(FACEBOOK, {"page_id": "1001"})

    assert bad_token.status_code == 400 and bad_token.json()["errors"][0]["code"] == "token_invalid"
    assert bad_code.status_code == 400 and bad_code.json()["errors"][0]["attr"] == "code"
    assert neither.status_code == 400
    with tenant_context(org):
        assert not SocialAccount.objects.exists()
    assert not SocialRoute.objects.exists()


def test_instagram_routes_the_linked_instagram_account(org, graph, client_for, member_of):
    page = graph.add_page("1001", instagram_id="17841400000000001", instagram_username="acme.homes")

    response = _admin(org, client_for, member_of).post(INSTAGRAM, {"page_id": "1001", "access_token": page.token})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["platform"], body["external_id"], body["page_id"], body["name"]) == (
        "instagram",
        "17841400000000001",
        "1001",
        "acme.homes",
    )
    assert SocialRoute.objects.get(platform="instagram", external_id="17841400000000001").organization == org


def test_instagram_needs_a_linked_account(org, graph, client_for, member_of):
    page = graph.add_page("1001")
    response = _admin(org, client_for, member_of).post(INSTAGRAM, {"page_id": "1001", "access_token": page.token})
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "page_id"


def test_only_admins_connect_and_disconnect(org, graph, client_for, member_of):
    page = graph.add_page("1001")
    member = client_for(org, user=member_of(org, "member"))
    response = member.post(FACEBOOK, {"page_id": "1001", "access_token": page.token})
    assert response.status_code == 403
    assert not graph.requests
    account = connect(org, graph, page_id="1001")
    assert member.get(f"{ACCOUNTS}{account.pk}/").status_code == 200
    assert member.delete(f"{ACCOUNTS}{account.pk}/").status_code == 403
    with tenant_context(org):
        assert SocialAccount.objects.get().status == AccountStatus.CONNECTED


def test_an_api_key_connects_as_admin(org, graph, client_for, api_key):
    page = graph.add_page("1001")
    response = client_for(org, api_key=api_key).post(FACEBOOK, {"page_id": "1001", "access_token": page.token})
    assert response.status_code == 201 and response.json()["connected_by"] is None


def test_one_page_belongs_to_one_organization(org, other_org, graph, client_for, member_of):
    connect(org, graph, page_id="1001")
    response = _admin(other_org, client_for, member_of).post(
        FACEBOOK, {"page_id": "1001", "access_token": graph.pages["1001"].token}
    )
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "conflict"
    assert SocialRoute.objects.get(external_id="1001").organization == org


def test_the_plans_channel_limit_applies_but_not_to_a_reconnect(org, graph, client_for, member_of):
    # Starter: one channel.
    client = _admin(org, client_for, member_of)
    first = graph.add_page("1001")
    second = graph.add_page("2002", name="Acme Rentals")
    assert client.post(FACEBOOK, {"page_id": "1001", "access_token": first.token}).status_code == 201

    refused = client.post(FACEBOOK, {"page_id": "2002", "access_token": second.token})
    again = client.post(FACEBOOK, {"page_id": "1001", "access_token": first.token})

    assert refused.status_code == 403
    assert (refused.json()["errors"][0]["code"], refused.json()["errors"][0]["attr"]) == ("plan_limit", "channels")
    assert again.status_code == 200
    # Upgrading makes room.
    subscription = Subscription.objects.get(organization=org)
    subscription.plan.entitlements = {**subscription.plan.entitlements, "channels": 3}
    subscription.plan.save()
    assert client.post(FACEBOOK, {"page_id": "2002", "access_token": second.token}).status_code == 201


def test_without_an_encryption_key_nothing_is_stored_or_asked(org, graph, client_for, member_of, settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.DEBUG = False
    page = graph.add_page("1001")
    client = _admin(org, client_for, member_of)
    client.raise_request_exception = False  # a 5xx is reported as an exception; the answer is what matters
    response = client.post(FACEBOOK, {"page_id": "1001", "access_token": page.token})
    assert response.status_code == 503
    assert "FIELD_ENCRYPTION_KEY" in response.json()["errors"][0]["detail"]
    assert not graph.requests and not SocialRoute.objects.exists()


def test_graph_unreachable_is_503_and_nothing_is_stored(org, graph, client_for, member_of):
    page = graph.add_page("1001")
    graph.fail_next(status=503, code=2, path="/1001")
    client = _admin(org, client_for, member_of)
    client.raise_request_exception = False
    response = client.post(FACEBOOK, {"page_id": "1001", "access_token": page.token})
    assert response.status_code == 503 and response.json()["errors"][0]["code"] == "unavailable"
    assert not SocialRoute.objects.exists()


def test_members_list_accounts_of_their_organization_only(org, other_org, graph, client_for, member_of):
    connect(org, graph, page_id="1001")
    connect(other_org, graph, page_id="2002")
    mine = client_for(org, user=member_of(org, "member")).get(ACCOUNTS).json()
    theirs = client_for(other_org, user=member_of(other_org, "member")).get(ACCOUNTS).json()
    assert [a["page_id"] for a in mine["results"]] == ["1001"]
    assert [a["page_id"] for a in theirs["results"]] == ["2002"]
    mine_id = mine["results"][0]["id"]
    # Another organization's host does not know the account (ids are per schema, but never cross over).
    assert (
        client_for(other_org, user=member_of(other_org, "admin")).delete(f"{ACCOUNTS}{mine_id + 1000}/").status_code
        == 404
    )


def test_disconnect_unsubscribes_forgets_the_token_and_the_route(org, graph, client_for, member_of, meta_webhook):
    account = connect(org, graph, page_id="1001")
    token = graph.pages["1001"].token

    response = _admin(org, client_for, member_of).delete(f"{ACCOUNTS}{account.pk}/")

    assert response.status_code == 200 and response.json()["status"] == "disconnected"
    assert response.json()["disconnect_reason"] == "member"
    unsubscribe = graph.requests[-1]
    assert (unsubscribe.method, unsubscribe.path, unsubscribe.query["access_token"]) == (
        "DELETE",
        "/1001/subscribed_apps",
        token,
    )
    assert _raw_token_column(org, account.pk) == ""
    assert not SocialRoute.objects.exists()
    with tenant_context(org):
        assert SocialAccount.objects.get().status == AccountStatus.DISCONNECTED
    # Later webhooks for the page are dropped.
    assert (
        meta_webhook.post(webhook_payload(message_item(page_id="1001", sender="p1"), page_id="1001")).status_code == 200
    )
    assert not InboundEvent.objects.exists()
    # And the page can be connected elsewhere now.
    assert SocialRoute.objects.filter(external_id="1001").count() == 0


def test_the_schema_documents_the_connect_endpoints(org, client_for):
    paths = client_for(org).get("/api/schema/", {"format": "json"}).json()["paths"]
    assert {"/api/connect/{platform}/", "/api/connect/accounts/", "/api/connect/accounts/{id}/"} <= set(paths)
    assert {"201", "400", "403"} <= set(paths["/api/connect/{platform}/"]["post"]["responses"])
