"""`.env.example` lists every variable the settings read, and the contract's variables."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "BASE_DOMAIN",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_MODEL",
    "EMBEDDING_PROVIDER",
    "EMBEDDING_MODEL",
    "VECTOR_DIMENSIONS",
    "FACEBOOK_GRAPH_URL",
    "STRIPE_API_BASE",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "STRIPE_PRICE_STARTER",
    "STRIPE_PRICE_PRO",
    "STRIPE_PRICE_AGENCY",
    "POSTMARK_API_TOKEN",
    "POSTMARK_FROM_EMAIL",
    "POSTMARK_API_URL",
    "FACEBOOK_APP_ID",
    "FACEBOOK_APP_SECRET",
    "FACEBOOK_VERIFY_TOKEN",
    "WEBHOOK_SIGNING_SECRET",
    "N8N_WEBHOOK_URL",
    "WEBHOOK_RETRY_SCHEDULE",
    "WEBHOOK_ALLOW_PRIVATE_HOSTS",
    "FIELD_ENCRYPTION_KEY",
    "CHAT_RATE_LIMIT_VISITOR",
    "CHAT_RATE_LIMIT_IP",
    "DJANGO_SUPERUSER_EMAIL",
    "DJANGO_SUPERUSER_PASSWORD",
}


def _documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]+)=", text, flags=re.M))


def _read_by_settings() -> set[str]:
    names = set()
    for path in (ROOT / "config" / "settings").glob("*.py"):
        names |= set(re.findall(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text()))
    return names


def test_every_setting_is_documented():
    missing = _read_by_settings() - _documented()
    assert not missing, f".env.example lacks {sorted(missing)}"


def test_contract_variables_are_documented():
    assert not CONTRACT_VARIABLES - _documented()


def test_every_documented_variable_has_a_comment():
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]+=", line):
            # A variable belongs to the comment block right above it (several may share one).
            above = index - 1
            while above >= 0 and re.match(r"^[A-Z][A-Z0-9_]+=", lines[above]):
                above -= 1
            assert above >= 0 and lines[above].startswith("#"), f"{line} has no comment"
