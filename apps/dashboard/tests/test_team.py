"""Dashboard team page: roles, invite by email (seats limit on the form), owners change roles, one owner stays."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from apps.accounts.models import Membership, User

pytestmark = pytest.mark.django_db
RANK = {"member": 1, "admin": 2, "owner": 3}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


@pytest.fixture
def people(org, other_org, member_of):
    return {
        "member": member_of(org, "member"),
        "admin": member_of(org, "admin"),
        "owner": member_of(org, "owner", email="owner@acme.test"),
        "outsider": member_of(other_org, "owner", email="boss@globex.test"),
    }


def browser(org, user=None) -> Client:
    client = Client(HTTP_HOST=org.host)
    if user is not None:
        client.force_login(user)
    return client


def membership(org, user) -> Membership:
    return Membership.objects.get(organization=org, user=user)


@pytest.mark.parametrize("role", ["member", "admin", "owner"])
def test_members_read_admins_invite_owners_change_roles(org, people, role):
    client = browser(org, people[role])
    page = client.get("/dashboard/team/")
    assert page.status_code == 200 and b"member@acme.test" in page.content and b"admin@acme.test" in page.content
    assert (b"Invite by email" in page.content) is (RANK[role] >= RANK["admin"])
    assert (b"Remove</button>" in page.content) is (role == "owner")
    # The starter plan's seats are all taken here: an admin's invite reaches the service and is refused.
    invite = client.post("/dashboard/team/invite/", {"email": "new@example.com", "role": "member"})
    assert invite.status_code == (400 if RANK[role] >= RANK["admin"] else 403)
    target = membership(org, people["member"])
    expected = 302 if role == "owner" else 403
    assert client.post(f"/dashboard/team/{target.pk}/role/", {"role": "admin"}).status_code == expected
    assert client.post(f"/dashboard/team/{target.pk}/remove/").status_code == expected


def test_anonymous_is_sent_to_the_login_and_outsiders_are_refused(org, people):
    target = membership(org, people["member"])
    for method, url in (
        ("get", "/dashboard/team/"),
        ("post", "/dashboard/team/invite/"),
        ("post", f"/dashboard/team/{target.pk}/remove/"),
    ):
        response = getattr(browser(org), method)(url)
        assert response.status_code == 302 and response["Location"].startswith("/dashboard/login/?next=")
        assert getattr(browser(org, people["outsider"]), method)(url).status_code == 403
    assert Membership.objects.filter(pk=target.pk).exists()


def test_invite_creates_the_user_and_the_seats_limit_is_a_form_error(org, other_org, member_of):
    owner = User.objects.get(email="owner@acme.test")
    client = browser(org, owner)
    joined = client.post("/dashboard/team/invite/", {"email": "New@Example.com", "role": "admin"}, follow=True)
    assert b"new@example.com joined as Admin" in joined.content and b"/password-reset/" in joined.content
    assert membership(org, User.objects.get(email="new@example.com")).role == "admin"
    bad = client.post("/dashboard/team/invite/", {"email": "not-an-email", "role": "member"})
    assert bad.status_code == 400 and b'id="email-error"' in bad.content
    # Two seats on the starter plan, both taken now.
    full = client.post("/dashboard/team/invite/", {"email": "third@example.com", "role": "member"})
    assert full.status_code == 400 and b'role="alert"' in full.content and b"seats" in full.content.lower()
    assert not User.objects.filter(email="third@example.com").exists()


def test_an_admin_cannot_invite_an_owner(org, member_of):
    admin = member_of(org, "admin")
    response = browser(org, admin).post("/dashboard/team/invite/", {"email": "boss@example.com", "role": "owner"})
    assert response.status_code == 400 and b"Only an owner can add another owner" in response.content
    assert not User.objects.filter(email="boss@example.com").exists()


def test_owner_changes_roles_removes_members_and_never_the_last_owner(org, other_org, people):
    owner = browser(org, people["owner"])
    member = membership(org, people["member"])
    assert owner.post(f"/dashboard/team/{member.pk}/role/", {"role": "admin"}).status_code == 302
    member.refresh_from_db()
    assert member.role == "admin"
    assert owner.post(f"/dashboard/team/{member.pk}/role/", {"role": "king"}, follow=True).status_code == 200
    assert owner.post(f"/dashboard/team/{member.pk}/remove/").status_code == 302
    assert not Membership.objects.filter(pk=member.pk).exists()

    mine = membership(org, people["owner"])
    demoted = owner.post(f"/dashboard/team/{mine.pk}/role/", {"role": "member"}, follow=True)
    assert b"at least one owner" in demoted.content
    removed = owner.post(f"/dashboard/team/{mine.pk}/remove/", follow=True)
    assert b"at least one owner" in removed.content
    mine.refresh_from_db()
    assert mine.role == "owner"
    # Another organization's membership is not found from this host.
    theirs = membership(other_org, people["outsider"])
    assert owner.post(f"/dashboard/team/{theirs.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=theirs.pk).exists()


def test_the_invited_get_an_email_and_a_newcomer_sets_a_password_with_its_link(org, settings):
    import re

    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    owner = User.objects.get(email="owner@acme.test")  # the second of the starter plan's two seats is the invitee's
    joined = browser(org, owner).post("/dashboard/team/invite/", {"email": "Newbie@Example.com", "role": "member"})
    assert joined.status_code == 302
    [message] = mail.outbox
    assert message.to == ["newbie@example.com"]
    assert message.subject == f"owner@acme.test invited you to {org.name}"
    assert f"to the team of {org.name} as Member" in message.body
    assert f"http://{org.host}/dashboard/" in message.body
    link = re.search(r"http://\S+/password-reset/\S+", message.body).group(0)

    public = Client(HTTP_HOST="localhost")
    form_url = public.get(link.split("localhost", 1)[1].lstrip(":0123456789"))["Location"]
    done = public.post(form_url, {"new_password1": "a-Fresh-pass-2026", "new_password2": "a-Fresh-pass-2026"})
    assert done.status_code == 302
    assert User.objects.get(email="newbie@example.com").check_password("a-Fresh-pass-2026")


def test_someone_with_an_account_is_told_to_sign_in_and_a_failed_mail_is_reported(org, settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    owner = User.objects.get(email="owner@acme.test")  # the second of the starter plan's two seats is the invitee's
    User.objects.create_user(email="known@example.com", password="known-Pass-2026")
    browser(org, owner).post("/dashboard/team/invite/", {"email": "known@example.com", "role": "member"})
    [message] = mail.outbox
    assert "/password-reset/" not in message.body and "Sign in to the dashboard with your usual" in message.body

    Membership.objects.filter(user__email="known@example.com").delete()
    # The real Postmark backend, with nothing listening where it sends.
    settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    settings.ANYMAIL = {"POSTMARK_SERVER_TOKEN": "test-token", "POSTMARK_API_URL": "http://127.0.0.1:9/"}
    page = browser(org, owner).post(
        "/dashboard/team/invite/", {"email": "known@example.com", "role": "member"}, follow=True
    )
    assert b"known@example.com joined as Member" in page.content
    assert b"The invitation email could not be sent" in page.content
