"""Password reset on the public host: the mailed link sets a new password once; an unknown address learns nothing."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client

from apps.accounts.services import user_get_or_create

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-Fresh-pass-2026"


@pytest.fixture(autouse=True)
def _fresh(settings):
    cache.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []


def public() -> Client:
    return Client(HTTP_HOST="localhost")


def reset_link(email: str) -> str:
    response = public().post("/password-reset/", {"email": email})
    assert response.status_code == 302 and response["Location"] == "/password-reset/sent/"
    [message] = mail.outbox
    assert message.to == [email.lower()]
    return re.search(r"https?://\S+", message.body).group(0)


def test_the_emailed_link_sets_a_new_password_once():
    user, _ = user_get_or_create(email="jane@sunrise.test", password="old-Pass-2026")
    page = public().get("/login/")
    assert b'href="/password-reset/"' in page.content
    assert b'name="email"' in public().get("/password-reset/").content
    link = reset_link("Jane@Sunrise.test")
    assert link.startswith("http://localhost") and "/password-reset/" in link
    path = link.split("localhost", 1)[1].lstrip(":0123456789")
    browser = public()
    # Django swaps the token in the link for one in the session, then shows the form.
    form_url = browser.get(path)["Location"]
    assert b"Choose a new password" in browser.get(form_url).content
    mismatch = browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": "other"})
    assert mismatch.status_code == 200 and b'id="new_password2-error"' in mismatch.content
    done = browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/password-reset/done/"
    assert b"Password changed" in browser.get("/password-reset/done/").content
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    login = public().post("/login/", {"email": "jane@sunrise.test", "password": NEW_PASSWORD})
    assert login.status_code == 302
    again = public().get(path)
    assert again.status_code == 200 and b"This link no longer works" in again.content


def test_an_invited_member_without_a_password_sets_one():
    user, _ = user_get_or_create(email="invited@sunrise.test")
    assert not user.has_usable_password()
    assert "/password-reset/" in reset_link("invited@sunrise.test")


def test_an_unknown_email_reveals_nothing():
    user_get_or_create(email="jane@sunrise.test", password="old-Pass-2026")
    known = public().post("/password-reset/", {"email": "jane@sunrise.test"})
    mail.outbox = []
    unknown = public().post("/password-reset/", {"email": "nobody@sunrise.test"})
    assert (unknown.status_code, unknown["Location"]) == (known.status_code, known["Location"])
    assert mail.outbox == []
    assert public().get(unknown["Location"]).content.count(b"If an account uses that address") == 1


def test_reset_pages_are_not_on_an_organization_host(org):
    assert Client(HTTP_HOST=org.host).get("/password-reset/").status_code == 404


def test_one_address_gets_at_most_three_mails_an_hour_and_the_answer_never_changes():
    user_get_or_create(email="jane@sunrise.test", password="old-Pass-2026")
    answers = [public().post("/password-reset/", {"email": "jane@sunrise.test"}) for _ in range(5)]
    assert all(a.status_code == 302 and a["Location"] == "/password-reset/sent/" for a in answers)
    assert len(mail.outbox) == 3  # the 4th and 5th asks send nothing, and say nothing different


def test_too_many_requests_from_one_address_get_a_429_saying_when(settings):
    settings.PASSWORD_RESET_RATE_IP = "2/h"
    for n in range(2):
        assert public().post("/password-reset/", {"email": f"nobody{n}@sunrise.test"}).status_code == 302
    blocked = public().post("/password-reset/", {"email": "nobody9@sunrise.test"})
    assert blocked.status_code == 429
    assert b"Too many reset requests from your network. Try again in" in blocked.content
    assert mail.outbox == []
