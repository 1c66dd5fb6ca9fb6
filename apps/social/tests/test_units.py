"""The pieces on their own: the Graph client's error classes, splitting to platform limits, token encryption."""

from __future__ import annotations

import socket

import pytest
from cryptography.fernet import Fernet

from apps.social import crypto
from apps.social.graph import GraphClient, GraphError, graph_client
from apps.social.splitting import INSTAGRAM_MAX_BYTES, MESSENGER_MAX_CHARS, split_message, split_text

# --- the Graph client against the fake ---------------------------------------------------------------


def test_client_honors_the_graph_url_and_sends_appsecret_proof(graph):
    page = graph.add_page("1001")
    answer = graph_client().send_text(
        "1001", token=page.token, recipient_id="psid-1", text="Hello", messaging_type="RESPONSE"
    )

    assert answer["message_id"].startswith("m_out_")
    [request] = graph.requests
    assert request.path == "/1001/messages"  # under FACEBOOK_GRAPH_URL's version prefix
    assert request.body == {"recipient": {"id": "psid-1"}, "messaging_type": "RESPONSE", "message": {"text": "Hello"}}
    assert request.query["access_token"] == page.token
    assert len(request.query["appsecret_proof"]) == 64  # the fake checks it against its app secret


@pytest.mark.parametrize(
    ("status", "code", "transient"),
    [
        (500, None, True),  # a 5xx without a Graph error object
        (503, 2, True),  # service
        (400, 4, True),  # application request limit
        (400, 17, True),  # user request limit
        (400, 32, True),  # page request limit
        (400, 613, True),  # calls within one hour
        (400, 100, False),  # invalid parameter
        (403, 10, False),  # permission
        (400, 190, False),  # token: not transient, but marks the account
    ],
)
def test_errors_are_classified(graph, status, code, transient):
    page = graph.add_page("1001")
    graph.fail_next(status=status, code=code, path="/messages")
    with pytest.raises(GraphError) as caught:
        graph_client().send_action("1001", token=page.token, recipient_id="psid-1")
    assert caught.value.transient is transient
    assert caught.value.token_invalid is (code == 190)
    assert caught.value.status == status


def test_outside_window_error_is_recognised(graph):
    page = graph.add_page("1001")
    graph.fail_next(status=400, code=10, subcode=2018278, path="/messages")
    with pytest.raises(GraphError) as caught:
        graph_client().send_text("1001", token=page.token, recipient_id="p", text="x", messaging_type="RESPONSE")
    assert caught.value.outside_window and not caught.value.transient


def test_unreachable_graph_is_transient_and_never_leaks_the_token():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(base_url=f"http://127.0.0.1:{port}/v21.0", timeout=1.0, app_secret="s")
    with pytest.raises(GraphError) as caught:
        client.object_get("1001", token="SECRET-TOKEN-123", fields="id")
    assert caught.value.transient
    assert "SECRET-TOKEN-123" not in str(caught.value) and "127.0.0.1" not in str(caught.value)


# --- splitting ----------------------------------------------------------------------------------------


def test_split_cuts_on_word_boundaries_within_the_limit():
    text = " ".join(f"word{i}" for i in range(40))
    pieces = split_text(text, limit=50)
    assert all(len(piece) <= 50 for piece in pieces)
    assert " ".join(pieces) == text  # nothing lost, no word cut
    assert all(not piece.startswith(" ") and not piece.endswith(" ") for piece in pieces)


def test_split_cuts_a_word_longer_than_the_limit():
    url = "https://example.com/" + "a" * 120
    pieces = split_text(f"See {url} now", limit=50)
    assert pieces[0] == "See"
    assert all(len(piece) <= 50 for piece in pieces)
    assert "".join(pieces[1:]) == f"{url} now"  # the URL is cut where it must be, the rest on a space


def test_messenger_limit_is_2000_characters():
    text = ("Lovely home with garden. " * 200).strip()  # ≈ 5,000 characters
    pieces = split_message(text, platform="facebook")
    assert len(pieces) == 3
    assert all(len(piece) <= MESSENGER_MAX_CHARS for piece in pieces)
    assert " ".join(pieces) == text


def test_instagram_limit_is_1000_bytes_not_characters():
    text = " ".join(["déjà-vu café à São Paulo 🏠"] * 60)  # multi-byte characters
    pieces = split_message(text, platform="instagram")
    assert all(len(piece.encode("utf-8")) <= INSTAGRAM_MAX_BYTES for piece in pieces)
    assert len(text) < 2 * INSTAGRAM_MAX_BYTES < len(text.encode()) and len(pieces) >= 2
    assert " ".join(pieces) == text


def test_short_text_is_one_piece():
    assert split_message("  Hello there  ", platform="instagram") == ["Hello there"]
    assert split_message("", platform="facebook") == []


# --- encryption at rest --------------------------------------------------------------------------------


def test_tokens_round_trip_and_are_not_readable(settings):
    ciphertext = crypto.token_encrypt("EAAB-page-token")
    assert "EAAB" not in ciphertext and ciphertext != "EAAB-page-token"
    assert crypto.token_decrypt(ciphertext) == "EAAB-page-token"


def test_a_passphrase_key_is_derived_and_keys_rotate(settings):
    settings.FIELD_ENCRYPTION_KEY = "a long passphrase that is not a fernet key"
    old = crypto.token_encrypt("token-1")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = f"{new_key},a long passphrase that is not a fernet key"
    assert crypto.token_decrypt(old) == "token-1"  # the old key still decrypts
    assert (
        Fernet(new_key.encode()).decrypt(crypto.token_encrypt("token-2").encode()) == b"token-2"
    )  # the first encrypts
    settings.FIELD_ENCRYPTION_KEY = new_key
    with pytest.raises(crypto.TokenUnreadable):
        crypto.token_decrypt(old)


def test_no_key_refuses_outside_debug_and_derives_one_in_debug(settings):
    settings.FIELD_ENCRYPTION_KEY = ""
    settings.DEBUG = False
    with pytest.raises(crypto.EncryptionKeyMissing):
        crypto.token_encrypt("token")
    settings.DEBUG = True
    assert crypto.token_decrypt(crypto.token_encrypt("token")) == "token"


def test_graph_times_in_the_shapes_meta_and_others_send():
    from apps.social.services import _graph_time

    assert _graph_time("1700000000").year == 2023
    assert _graph_time("2026-01-02T03:04:05+0000").day == 2
    assert _graph_time("²") is None  # str.isdigit() is true for it; int() is not


def test_an_item_whose_sender_is_no_object_is_not_a_message():
    # Meta sends {"sender": {"id": …}}; a string there raised AttributeError on every retry.
    from apps.social.models import SocialAccount
    from apps.social.services import _classify

    account = SocialAccount(external_id="1001", page_id="1001")
    assert _classify({"sender": "psid-x", "message": {"mid": "m_1", "text": "hi"}}, account) == ("echo", None)
    assert _classify({"sender": "psid-x", "postback": {"title": "Get Started"}}, account) == ("postback", None)
