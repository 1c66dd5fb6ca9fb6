"""End to end with a real worker: a signed webhook in, the assistant's reply out at the fake Graph API.

Committed organizations (the worker's threads cannot see a test's transaction), dropped after each test.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.chat.models import Conversation, Message
from apps.chat.tests.conftest import add_listings
from apps.core.periodic import periodic_fan_out, periodic_task_get
from apps.leads.models import Lead
from apps.social.models import AccountStatus, OutboundMessage, SeenMessage, SocialAccount, SocialThread
from apps.social.selectors import social_account_alerts
from apps.social.services import inbound_event_process, social_run_due
from apps.social.tests.conftest import connect, message_item, webhook_payload
from apps.socialrouting.models import InboundEvent
from apps.tenants.models import Organization
from conftest import make_organization, tenant_client
from tests.fakes.openai_server import FakeOpenAI

ACME_PAGE, GLOBEX_PAGE, GLOBEX_IG = "1001", "2002", "17841400000000002"


@pytest.fixture
def agencies(transactional_db):
    """Two committed organizations, each allowed three channels."""
    from apps.billing.models import Plan

    for plan in Plan.objects.all():
        plan.entitlements = {**plan.entitlements, "channels": 3}
        plan.save()
    acme = make_organization("meta-acme", name="Acme Realty")
    globex = make_organization("meta-globex", name="Globex Homes")
    yield acme, globex
    from django.db import connection

    connection.set_schema_to_public()  # a request made in the test may have left the tenant active
    for organization in Organization.objects.filter(slug__in=["meta-acme", "meta-globex"]):
        organization.delete(force_drop=True)


@pytest.fixture
def acme(agencies, graph, jobs_worker):
    organization, _ = agencies
    connect(organization, graph, page_id=ACME_PAGE, name="Acme Realty")
    jobs_worker.drain()  # the backfill of the new account (nothing to import)
    return organization


def deliver(meta_webhook, jobs_worker, payload: dict, *, platform: str = "facebook", times: int = 1) -> None:
    for _ in range(times):
        assert meta_webhook.post(payload, platform=platform).status_code == 200
    jobs_worker.drain()


def _conversations(organization) -> list[Conversation]:
    with tenant_context(organization):
        return list(Conversation.objects.order_by("id"))


def _roles(organization, conversation: Conversation) -> list[str]:
    with tenant_context(organization):
        return list(Message.objects.filter(conversation=conversation).order_by("id").values_list("role", flat=True))


# --- one reply, once ------------------------------------------------------------------------------------


def test_a_message_gets_exactly_one_reply_even_when_posted_twice(acme, graph, jobs_worker, meta_webhook):
    add_listings(acme)
    item = message_item(page_id=ACME_PAGE, sender="psid-ana", text="Hi! Any house with a pool in Austin?")

    deliver(meta_webhook, jobs_worker, webhook_payload(item, page_id=ACME_PAGE), times=2)  # Meta redelivers

    [reply] = graph.sent(ACME_PAGE)
    assert reply.body["recipient"] == {"id": "psid-ana"}
    assert reply.body["messaging_type"] == "RESPONSE" and "tag" not in reply.body
    assert "pool" in reply.body["message"]["text"].lower()
    # typing_on went first, alone.
    [typing] = graph.actions()
    assert typing.body == {"recipient": {"id": "psid-ana"}, "sender_action": "typing_on"}
    assert graph.requests.index(typing) < graph.requests.index(reply)
    [conversation] = _conversations(acme)
    assert (conversation.channel, conversation.visitor_id, conversation.status) == ("facebook", "psid-ana", "open")
    assert _roles(acme, conversation) == ["visitor", "assistant"]
    with tenant_context(acme):
        assert Message.objects.get(role="assistant").text == reply.body["message"]["text"]
        assert SeenMessage.objects.get(direction="in").mid == item["message"]["mid"]
        assert SeenMessage.objects.get(direction="out").mid == "m_out_1"  # a backfill will not import it
        assert OutboundMessage.objects.get().status == "sent"
    assert sorted(InboundEvent.objects.values_list("outcome", flat=True)) == ["duplicate", "replied"]


def test_echoes_reads_and_deliveries_are_ignored(acme, graph, jobs_worker, meta_webhook):
    now = int(time.time() * 1000)
    echo = message_item(page_id=ACME_PAGE, sender="psid-ana", text="Our own reply", echo=True)
    read = {"sender": {"id": "psid-ana"}, "recipient": {"id": ACME_PAGE}, "timestamp": now, "read": {"watermark": now}}
    delivery = {
        "sender": {"id": "psid-ana"},
        "recipient": {"id": ACME_PAGE},
        "timestamp": now,
        "delivery": {"mids": ["m_1"], "watermark": now},
    }

    deliver(meta_webhook, jobs_worker, webhook_payload(echo, read, delivery, page_id=ACME_PAGE))

    assert not graph.sent() and not graph.actions()
    assert _conversations(acme) == []
    assert sorted(InboundEvent.objects.values_list("outcome", flat=True)) == ["delivery", "echo", "read"]


def test_a_tapped_button_is_answered_as_its_title(acme, graph, jobs_worker, meta_webhook):
    # "Get Started" is the first thing a Messenger visitor taps; its postback was dropped without a word.
    add_listings(acme)
    postback = {
        "sender": {"id": "psid-ana"}, "recipient": {"id": ACME_PAGE}, "timestamp": int(time.time() * 1000),
        "postback": {"mid": "m_postback_1", "title": "Get Started", "payload": "GET_STARTED"},
    }  # fmt: skip

    deliver(meta_webhook, jobs_worker, webhook_payload(postback, page_id=ACME_PAGE), times=2)

    [reply] = graph.sent(ACME_PAGE)
    assert reply.body["recipient"] == {"id": "psid-ana"} and reply.body["message"]["text"]
    assert len(_conversations(acme)) == 1
    with tenant_context(acme):
        assert Message.objects.filter(role="visitor").get().text == "Get Started"
    assert sorted(InboundEvent.objects.values_list("outcome", flat=True)) == ["duplicate", "replied"]


def test_a_photo_or_a_location_is_kept_for_the_agent_and_not_answered(acme, graph, jobs_worker, meta_webhook):
    # They vanished: a thread and a lead, and an empty conversation for the agent.
    now = int(time.time() * 1000)
    photo = {
        "sender": {"id": "psid-ana"}, "recipient": {"id": ACME_PAGE}, "timestamp": now,
        "message": {"mid": "m_photo", "attachments": [{"type": "image", "payload": {"url": "https://cdn.test/p.jpg"}}]},
    }  # fmt: skip
    place = {
        "sender": {"id": "psid-ana"}, "recipient": {"id": ACME_PAGE}, "timestamp": now + 1,
        "message": {"mid": "m_place", "attachments": [
            {"type": "location", "payload": {"coordinates": {"lat": 30.27, "long": -97.74}}}
        ]},
    }  # fmt: skip

    deliver(meta_webhook, jobs_worker, webhook_payload(photo, place, page_id=ACME_PAGE))

    assert not graph.sent(ACME_PAGE)
    [conversation] = _conversations(acme)
    with tenant_context(acme):
        texts = list(Message.objects.filter(conversation=conversation).order_by("id").values_list("text", flat=True))
        assert sorted(texts) == ["[image] https://cdn.test/p.jpg", "[location] 30.27, -97.74"]  # jobs: any order
        assert Conversation.objects.get().message_count == 2  # both counted, though stored at once
        from apps.events.models import Event

        assert Event.objects.filter(type="conversation.started").count() == 1
        assert Event.objects.filter(type="conversation.message").count() == 2
    assert sorted(InboundEvent.objects.values_list("outcome", flat=True)) == ["attachment", "attachment"]


# --- leads -------------------------------------------------------------------------------------------------


def test_the_sender_becomes_a_facebook_lead_with_the_graph_profile_name(acme, graph, jobs_worker, meta_webhook):
    graph.profiles["psid-ana"] = {"first_name": "Ana", "last_name": "Souza"}

    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana"), page_id=ACME_PAGE),
    )
    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana", text="And in Denver?"), page_id=ACME_PAGE),
    )

    with tenant_context(acme):
        lead = Lead.objects.get()
        assert (lead.source, lead.name) == ("facebook", "Ana Souza")
        assert Conversation.objects.get().lead_id == lead.pk
        assert SocialThread.objects.get().profile_name == "Ana Souza"
    assert len(graph.sent(ACME_PAGE)) == 2


def test_an_instagram_sender_becomes_an_instagram_lead_and_is_answered_through_the_page(
    agencies, graph, jobs_worker, meta_webhook
):
    _, globex = agencies
    connect(globex, graph, page_id=GLOBEX_PAGE, platform="instagram", instagram_id=GLOBEX_IG, name="Globex Homes")
    graph.profiles["igsid-bia"] = {"name": "Bia Lima", "username": "bia.lima"}
    item = message_item(page_id=GLOBEX_IG, sender="igsid-bia", text="Hello! Apartments to rent?")

    deliver(
        meta_webhook, jobs_worker, webhook_payload(item, page_id=GLOBEX_IG, object_="instagram"), platform="instagram"
    )

    [reply] = graph.sent(GLOBEX_PAGE)  # Instagram replies go through the linked page
    assert (
        reply.body["recipient"] == {"id": "igsid-bia"} and reply.query["access_token"] == graph.pages[GLOBEX_PAGE].token
    )
    with tenant_context(globex):
        lead = Lead.objects.get()
        assert (lead.source, lead.name) == ("instagram", "Bia Lima")
        assert Conversation.objects.get().channel == "instagram"


# --- the 24-hour window ------------------------------------------------------------------------------------


def test_a_message_older_than_24_hours_is_not_answered_but_handed_to_a_person(acme, graph, jobs_worker, meta_webhook):
    late = message_item(page_id=ACME_PAGE, sender="psid-old", text="Still available?", at=time.time() - 25 * 3600)

    deliver(meta_webhook, jobs_worker, webhook_payload(late, page_id=ACME_PAGE))

    assert not graph.sent() and not graph.actions()
    [conversation] = _conversations(acme)
    assert conversation.status == "human"
    assert _roles(acme, conversation) == ["visitor"]  # stored for the agent, no assistant reply
    assert InboundEvent.objects.get().outcome == "outside_window"


def test_a_reply_whose_window_closed_before_sending_is_skipped_and_handed_over(org, graph):
    # The turn took long (or the job waited): the person's message is now more than 24 hours old.
    from apps.chat.services import conversation_for_visitor
    from apps.social.services import outbound_send

    account = connect(org, graph, page_id=ACME_PAGE)
    graph.requests.clear()
    with tenant_context(org):
        conversation = conversation_for_visitor(channel="facebook", visitor_id="psid-late")
        thread = SocialThread.objects.create(
            account=account,
            visitor_id="psid-late",
            conversation=conversation,
            last_inbound_at=timezone.now() - timedelta(hours=24, minutes=1),
        )
        outbound = OutboundMessage.objects.create(account=account, thread=thread, kind="reply", text="Here you go")

        assert outbound_send(outbound_id=outbound.pk) == "skipped"

        outbound.refresh_from_db()
        conversation.refresh_from_db()
        assert outbound.status == "skipped" and "24-hour" in outbound.error
        assert conversation.status == "human"
    assert not graph.requests


# --- Graph errors ------------------------------------------------------------------------------------------


def test_a_revoked_token_marks_the_account_and_tells_the_dashboard(acme, graph, jobs_worker, meta_webhook):
    graph.revoke(graph.pages[ACME_PAGE].token)

    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana"), page_id=ACME_PAGE),
    )

    assert not graph.sent()
    with tenant_context(acme):
        account = SocialAccount.objects.get()
        assert (account.status, account.disconnect_reason) == (AccountStatus.DISCONNECTED, "token_revoked")
        assert "190" in account.status_detail and account.access_token_encrypted == ""
        [alert] = social_account_alerts()
        assert "Acme Realty" in alert and "Connect the page again" in alert
        # The person's message waits for an agent.
        conversation = Conversation.objects.get()
        assert conversation.status == "human" and _roles(acme, conversation) == ["visitor"]
    listed = tenant_client(acme, user=_admin(acme)).get("/api/connect/accounts/").json()["results"][0]
    assert (listed["status"], listed["disconnect_reason"]) == ("disconnected", "token_revoked")
    # The channel no longer counts against the plan.
    from apps.billing.usage import usage_get

    assert usage_get(organization=acme, key="channels") == 0


def test_a_token_revoked_while_sending_marks_the_account(acme, graph, jobs_worker, meta_webhook):
    graph.fail_next(status=400, code=190, path="/messages", body_has="message")

    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana"), page_id=ACME_PAGE),
    )

    with tenant_context(acme):
        assert SocialAccount.objects.get().disconnect_reason == "token_revoked"
        outbound = OutboundMessage.objects.get()
        assert outbound.status == "failed" and "190" in outbound.error


@pytest.mark.parametrize(("status", "code"), [(500, None), (400, 4), (400, 613)], ids=["5xx", "app-limit", "hourly"])
def test_transient_errors_are_retried_and_the_reply_goes_out_once(acme, graph, jobs_worker, meta_webhook, status, code):
    graph.fail_next(status=status, code=code, path="/messages", body_has="message")

    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana"), page_id=ACME_PAGE),
    )

    attempts = graph.sent(ACME_PAGE)
    assert len(attempts) == 2 and attempts[0].body == attempts[1].body  # the failed one, then the retry
    with tenant_context(acme):
        outbound = OutboundMessage.objects.get()
        assert (outbound.status, outbound.attempts, outbound.chunks_sent) == ("sent", 2, 1)
        assert SocialAccount.objects.get().status == "connected"


# --- agents' replies ---------------------------------------------------------------------------------------


def _admin(organization):
    from conftest import member

    return member(organization, "admin")


def test_an_agents_reply_goes_out_through_the_send_api(acme, graph, jobs_worker, meta_webhook, settings):
    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana"), page_id=ACME_PAGE),
    )
    [conversation] = _conversations(acme)
    client = tenant_client(acme, user=_admin(acme))

    response = client.post(
        f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "Hi Ana, I'm Carla."}, format="json"
    )
    jobs_worker.drain()

    assert response.status_code == 201
    agent = graph.sent(ACME_PAGE)[-1]
    assert agent.body == {
        "recipient": {"id": "psid-ana"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi Ana, I'm Carla."},
    }
    # Outside 24 hours: only with the human-agent tag, enabled, and within 7 days.
    with tenant_context(acme):
        SocialThread.objects.update(last_inbound_at=timezone.now() - timedelta(days=3))
    client.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "Still interested?"}, format="json")
    jobs_worker.drain()
    assert graph.sent(ACME_PAGE)[-1] == agent
    settings.FACEBOOK_HUMAN_AGENT_TAG = True
    client.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "Following up"}, format="json")
    jobs_worker.drain()
    tagged = graph.sent(ACME_PAGE)[-1]
    assert (tagged.body["messaging_type"], tagged.body["tag"], tagged.body["message"]["text"]) == (
        "MESSAGE_TAG",
        "HUMAN_AGENT",
        "Following up",
    )
    with tenant_context(acme):
        SocialThread.objects.update(last_inbound_at=timezone.now() - timedelta(days=8))
    client.post(f"/api/v1/conversations/{conversation.pk}/messages/", {"text": "Too late"}, format="json")
    jobs_worker.drain()
    assert graph.sent(ACME_PAGE)[-1] == tagged
    with tenant_context(acme):
        statuses = list(OutboundMessage.objects.filter(kind="agent").order_by("id").values_list("status", flat=True))
    assert statuses == ["sent", "skipped", "sent", "skipped"]
    # The assistant stays quiet once a person answered.
    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana", text="Thanks"), page_id=ACME_PAGE),
    )
    assert graph.sent(ACME_PAGE)[-1] == tagged
    assert InboundEvent.objects.order_by("-id").first().outcome == "human_mode"


# --- length limits ---------------------------------------------------------------------------------------


def test_a_long_reply_is_split_for_messenger_and_instagram(agencies, graph, jobs_worker, meta_webhook, settings):
    from apps.chat.llm import chat_model_reset

    acme_org, globex = agencies
    connect(acme_org, graph, page_id=ACME_PAGE)
    connect(globex, graph, page_id=GLOBEX_PAGE, platform="instagram", instagram_id=GLOBEX_IG)
    jobs_worker.drain()
    long_reply = " ".join(["Très belle maison à São Paulo avec piscine et jardin ensoleillé."] * 45)  # ≈ 2,900 chars
    with FakeOpenAI(long_reply) as model:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "sk-test", model.base_url
        chat_model_reset()
        deliver(
            meta_webhook,
            jobs_worker,
            webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana"), page_id=ACME_PAGE),
        )
        deliver(
            meta_webhook,
            jobs_worker,
            webhook_payload(
                message_item(page_id=GLOBEX_IG, sender="igsid-bia"), page_id=GLOBEX_IG, object_="instagram"
            ),
            platform="instagram",
        )

    messenger = [r.body["message"]["text"] for r in graph.sent(ACME_PAGE)]
    instagram = [r.body["message"]["text"] for r in graph.sent(GLOBEX_PAGE)]
    assert len(messenger) == 2 and all(len(text) <= 2000 for text in messenger)
    assert len(instagram) >= 4 and all(len(text.encode()) <= 1000 for text in instagram)
    for pieces in (messenger, instagram):
        assert " ".join(pieces) == long_reply  # cut between words only: nothing lost, no word broken


# --- isolation, standby, backfill, the sweep ----------------------------------------------------------------


def test_organizations_never_see_each_others_messages(agencies, graph, jobs_worker, meta_webhook):
    acme_org, globex = agencies
    connect(acme_org, graph, page_id=ACME_PAGE)
    connect(globex, graph, page_id=GLOBEX_PAGE, name="Globex Homes")
    jobs_worker.drain()

    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=GLOBEX_PAGE, sender="psid-zoe"), page_id=GLOBEX_PAGE),
    )

    assert _conversations(acme_org) == []
    [conversation] = _conversations(globex)
    assert conversation.visitor_id == "psid-zoe"
    [reply] = graph.sent()
    assert reply.path == f"/{GLOBEX_PAGE}/messages" and reply.query["access_token"] == graph.pages[GLOBEX_PAGE].token
    with tenant_context(acme_org):
        assert not Lead.objects.exists() and not SeenMessage.objects.exists()
    # A job never handles another organization's event, even if asked to.
    event = InboundEvent.objects.get()
    with tenant_context(acme_org):
        InboundEvent.objects.filter(pk=event.pk).update(processed_at=None)
        assert inbound_event_process(event_id=event.pk) == "wrong_schema"
        assert not Conversation.objects.exists()


def test_standby_messages_are_not_answered(acme, graph, jobs_worker, meta_webhook):
    item = message_item(page_id=ACME_PAGE, sender="psid-ana", text="Is someone there?")

    deliver(meta_webhook, jobs_worker, webhook_payload(item, page_id=ACME_PAGE, key="standby"))

    assert not graph.sent() and not graph.actions()
    [conversation] = _conversations(acme)
    assert conversation.status == "human" and _roles(acme, conversation) == ["visitor"]
    assert InboundEvent.objects.get().outcome == "standby"


def _conversation(
    conversation_id: str, visitor: str, name: str, updated: str, messages: list[tuple[str, str, str, str]]
):
    return {
        "id": conversation_id,
        "updated_time": updated,
        "participants": {"data": [{"id": visitor, "name": name}, {"id": ACME_PAGE, "name": "Acme Realty"}]},
        "messages": {
            "data": [
                {"id": mid, "message": text, "from": {"id": sender}, "created_time": at}
                for mid, sender, text, at in messages
            ]
        },
    }


def test_a_new_account_backfills_recent_conversations_without_replying(agencies, graph, jobs_worker, meta_webhook):
    acme_org, _ = agencies
    now = timezone.now()

    def at(hours: float) -> str:
        return (now - timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S+0000")

    graph.add_page(ACME_PAGE)
    graph.conversations[(ACME_PAGE, "messenger")] = [  # newest first, as Meta lists them
        _conversation(
            "t_1",
            "psid-ana",
            "Ana Souza",
            at(1),
            [
                ("m_a2", ACME_PAGE, "Sure, when?", at(1)),
                ("m_a1", "psid-ana", "Can I visit the loft?", at(2)),
            ],
        ),
        _conversation("t_2", "psid-bob", "Bob Reyes", at(30), [("m_b1", "psid-bob", "Price of the villa?", at(30))]),
        _conversation("t_3", "psid-cy", "Cy Tran", at(50), [("m_c1", "psid-cy", "Hello", at(50))]),
        _conversation("t_old", "psid-old", "Old Timer", at(24 * 40), [("m_o1", "psid-old", "Hi", at(24 * 40))]),
    ]

    connect(acme_org, graph, page_id=ACME_PAGE)
    jobs_worker.drain()

    pages = [r for r in graph.requests if r.path == f"/{ACME_PAGE}/conversations"]
    assert [r.query.get("after") for r in pages] == [None, "2"]  # paginated by cursor, stopped at the old one
    assert pages[0].query["platform"] == "messenger"
    assert not graph.sent() and not graph.actions()  # history is never answered
    with tenant_context(acme_org):
        conversations = {c.visitor_id: c for c in Conversation.objects.all()}
        assert set(conversations) == {"psid-ana", "psid-bob", "psid-cy"}
        ana = conversations["psid-ana"]
        history = list(Message.objects.filter(conversation=ana).order_by("created_at").values_list("role", "text"))
        assert history == [("visitor", "Can I visit the loft?"), ("agent", "Sure, when?")]
        assert ana.message_count == 2 and ana.last_message_at == Message.objects.get(text="Sure, when?").created_at
        assert {(lead.name, lead.source) for lead in Lead.objects.all()} == {
            ("Ana Souza", "facebook"),
            ("Bob Reyes", "facebook"),
            ("Cy Tran", "facebook"),
        }
        thread = SocialThread.objects.get(visitor_id="psid-ana")
        assert abs((thread.last_inbound_at - (now - timedelta(hours=2))).total_seconds()) < 2
        assert SocialAccount.objects.get().last_synced_at is not None

    # A redelivered historic message is not answered; a new one is, in the same conversation.
    old = message_item(page_id=ACME_PAGE, sender="psid-ana", mid="m_a1", text="Can I visit the loft?")
    deliver(meta_webhook, jobs_worker, webhook_payload(old, page_id=ACME_PAGE))
    assert not graph.sent()
    deliver(
        meta_webhook,
        jobs_worker,
        webhook_payload(message_item(page_id=ACME_PAGE, sender="psid-ana", text="Tomorrow at 5?"), page_id=ACME_PAGE),
    )
    assert len(graph.sent()) == 1 and len(_conversations(acme_org)) == 3


def test_the_sweep_replays_an_event_whose_job_was_lost(acme, graph, jobs_worker, meta_webhook):
    # Stored, but the in-memory broker lost its job (a restart): the sweep queues it again.
    lost = InboundEvent.objects.create(
        platform="facebook",
        external_id=ACME_PAGE,
        organization=acme,
        kind="messaging",
        payload=message_item(page_id=ACME_PAGE, sender="psid-ana"),
    )
    InboundEvent.objects.filter(pk=lost.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    fresh = InboundEvent.objects.create(
        platform="facebook",
        external_id=ACME_PAGE,
        organization=acme,
        kind="messaging",
        payload=message_item(page_id=ACME_PAGE, sender="psid-bob"),
    )

    long_done = InboundEvent.objects.create(
        platform="facebook",
        external_id=ACME_PAGE,
        organization=acme,
        payload={},
        processed_at=timezone.now() - timedelta(days=31),
        outcome="replied",
    )

    assert periodic_fan_out(periodic_task_get("social"), schemas=[acme.schema_name]) == 1
    jobs_worker.drain()

    [reply] = graph.sent()
    assert reply.body["recipient"] == {"id": "psid-ana"}
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.outcome == "replied" and fresh.processed_at is None  # the fresh one's job may still be on its way
    assert not InboundEvent.objects.filter(pk=long_done.pk).exists()  # handled long ago: deleted
    # run_automations does the same work inline.
    InboundEvent.objects.filter(pk=fresh.pk).update(received_at=timezone.now() - timedelta(minutes=5))
    with tenant_context(acme):
        assert social_run_due() == 1
    jobs_worker.drain()
    assert [r.body["recipient"]["id"] for r in graph.sent()] == ["psid-ana", "psid-bob"]
