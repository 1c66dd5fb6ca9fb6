"""GET/POST /webhook/facebook|instagram/ on the public host: the handshake, signatures, storing and routing."""

from __future__ import annotations

import json

import dramatiq
import pytest
from dramatiq import Message

from apps.core.jobs import SCHEMA_OPTION
from apps.social.tests.conftest import VERIFY_TOKEN, message_item, sign, webhook_payload
from apps.socialrouting.models import InboundEvent
from apps.socialrouting.services import route_claim
from conftest import make_organization

CHALLENGE = "1158201444"


# --- verification handshake ------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["facebook", "instagram"])
def test_handshake_with_the_right_token_echoes_the_challenge(db, meta_webhook, platform):
    response = meta_webhook.get(
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": CHALLENGE}, platform=platform
    )
    assert response.status_code == 200
    assert response.content.decode() == CHALLENGE


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": CHALLENGE},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": CHALLENGE},
        {"hub.challenge": CHALLENGE},
    ],
)
def test_handshake_with_a_wrong_token_or_mode_is_403(db, meta_webhook, params):
    response = meta_webhook.get(params)
    assert response.status_code == 403
    assert CHALLENGE not in response.content.decode()


def test_handshake_fails_closed_when_no_verify_token_is_configured(db, meta_webhook, settings):
    settings.FACEBOOK_VERIFY_TOKEN = ""
    assert meta_webhook.get({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}).status_code == 403


# --- signatures ---------------------------------------------------------------------------------------


@pytest.fixture
def routed_org(db):
    organization = make_organization("routed")
    route_claim(platform="facebook", external_id="1001", organization=organization)
    return organization


def _payload() -> bytes:
    return json.dumps(webhook_payload(message_item(page_id="1001", sender="psid-1"), page_id="1001")).encode()


def test_a_valid_signature_stores_the_event_and_answers_200(routed_org, meta_webhook):
    response = meta_webhook.post(_payload())
    assert response.status_code == 200
    [event] = InboundEvent.objects.all()
    assert (event.organization, event.platform, event.external_id, event.kind) == (
        routed_org,
        "facebook",
        "1001",
        "messaging",
    )
    assert event.payload["sender"] == {"id": "psid-1"} and event.mid.startswith("m_") and event.processed_at is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda body: None,  # missing
        lambda body: "",  # empty
        lambda body: "sha256=" + "0" * 64,  # made up
        lambda body: sign(b"another body"),  # genuine, but for another body
        lambda body: sign(body, secret="not-the-app-secret"),  # this body, another secret
        lambda body: sign(body)[:-2],  # truncated
        lambda body: "sha1=" + sign(body)[7:],  # another algorithm's name
    ],
    ids=["missing", "empty", "made-up", "other-body", "other-secret", "truncated", "sha1"],
)
def test_a_missing_or_forged_signature_is_403_and_nothing_is_stored(routed_org, meta_webhook, forge):
    body = _payload()
    response = meta_webhook.post(body, signature=forge(body))
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()


def test_the_signature_covers_the_raw_bytes(routed_org, meta_webhook):
    body = _payload()
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    assert meta_webhook.post(reformatted, signature=sign(body)).status_code == 403
    assert meta_webhook.post(reformatted, signature=sign(reformatted)).status_code == 200


def test_without_an_app_secret_every_post_is_refused(routed_org, meta_webhook, settings):
    body = _payload()
    signature = sign(body)
    settings.FACEBOOK_APP_SECRET = ""
    assert meta_webhook.post(body, signature=signature).status_code == 403
    assert not InboundEvent.objects.exists()


# --- routing ---------------------------------------------------------------------------------------------


def test_each_page_id_is_routed_to_its_organization_among_several(db, meta_webhook, django_capture_on_commit_callbacks):
    organizations = {page: make_organization(f"agency-{page}") for page in ("1001", "2002", "3003")}
    for page, organization in organizations.items():
        route_claim(platform="facebook", external_id=page, organization=organization)
    route_claim(platform="instagram", external_id="17841400000000009", organization=organizations["3003"])
    broker = dramatiq.get_broker()
    broker.flush_all()
    # One POST may carry entries of several pages (Meta batches), plus one nobody connected.
    payload = {
        "object": "page",
        "entry": [
            {"id": "2002", "time": 1, "messaging": [message_item(page_id="2002", sender="a")]},
            {"id": "9999", "time": 1, "messaging": [message_item(page_id="9999", sender="b")]},
            {"id": "1001", "time": 1, "messaging": [message_item(page_id="1001", sender="c")]},
        ],
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = meta_webhook.post(payload)

    assert response.status_code == 200 and response.json()["queued"] == 2
    stored = {event.external_id: event.organization for event in InboundEvent.objects.all()}
    assert stored == {"2002": organizations["2002"], "1001": organizations["1001"]}  # 9999: logged, dropped
    # Each job is queued to run in its own organization's schema.
    queued = [Message.decode(data) for data in list(broker.queues["social"].queue)]
    by_event = {message.args[0]: message.options[SCHEMA_OPTION] for message in queued}
    assert by_event == {event.pk: event.organization.schema_name for event in InboundEvent.objects.all()}
    broker.flush_all()

    # The Instagram object is routed by the Instagram account id, not by page ids.
    instagram = webhook_payload(
        message_item(page_id="17841400000000009", sender="ig-1"), page_id="17841400000000009", object_="instagram"
    )
    assert meta_webhook.post(instagram, platform="instagram").status_code == 200
    assert InboundEvent.objects.get(platform="instagram").organization == organizations["3003"]
    assert (
        meta_webhook.post(
            webhook_payload(message_item(page_id="1001", sender="d"), page_id="1001", object_="instagram"),
            platform="instagram",
        ).json()["queued"]
        == 0
    )


def test_intake_costs_the_same_queries_for_one_item_or_twenty(routed_org, meta_webhook):
    # One routing query and one insert for all items: Meta's batches do not multiply queries.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for size in (1, 20):
        items = [message_item(page_id="1001", sender=f"p{n}") for n in range(size)]
        with CaptureQueriesContext(connection) as captured:
            assert meta_webhook.post(webhook_payload(*items, page_id="1001")).json()["queued"] == size
        counts.append(len(captured))
    assert counts[0] == counts[1] <= 10
    assert InboundEvent.objects.count() == 21


def test_standby_items_are_stored_as_standby(routed_org, meta_webhook):
    payload = webhook_payload(message_item(page_id="1001", sender="p"), page_id="1001", key="standby")
    assert meta_webhook.post(payload).status_code == 200
    assert InboundEvent.objects.get().kind == "standby"


def test_other_objects_and_bad_json_store_nothing(routed_org, meta_webhook):
    assert meta_webhook.post({"object": "whatsapp_business_account", "entry": []}).status_code == 200
    assert meta_webhook.post(b"not json").status_code == 400
    # Signed, yet no Messenger event: JSON too deep to parse, and a NUL (each was a 500).
    assert (
        meta_webhook.post(b'{"object": "page", "entry": ' + b"[" * 100_000 + b"]" * 100_000 + b"}").status_code == 400
    )
    assert meta_webhook.post({"object": "page", "entry": [{"id": "1\x00", "messaging": []}]}).status_code == 400
    assert not InboundEvent.objects.exists()
