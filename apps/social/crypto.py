"""Encryption at rest of access tokens with FIELD_ENCRYPTION_KEY (Fernet: AES-128-CBC + HMAC-SHA256).

FIELD_ENCRYPTION_KEY holds one key, or several separated by commas to rotate: the first encrypts,
all decrypt. Each is a Fernet key (`Fernet.generate_key()`) or any other string, from which a key
is derived with HKDF-SHA256. Without it, DEBUG settings (local development) derive a key from
SECRET_KEY so that `make run` works; any other settings refuse to store a token (`EncryptionKeyMissing`),
because a token encrypted with a development key is one leaked SECRET_KEY away from readable.
"""

from __future__ import annotations

import base64
import binascii
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

logger = logging.getLogger(__name__)

HKDF_INFO = b"realestate-assistant field encryption v1"


class EncryptionKeyMissing(Exception):
    """FIELD_ENCRYPTION_KEY is empty outside DEBUG: tokens cannot be stored or read."""


class TokenUnreadable(Exception):
    """A stored ciphertext that none of the configured keys opens (a key was rotated away)."""


def _as_fernet_key(value: str) -> bytes:
    raw = value.encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(raw)
    return base64.urlsafe_b64encode(derived)


def _fernet() -> MultiFernet:
    keys = [part.strip() for part in (settings.FIELD_ENCRYPTION_KEY or "").split(",") if part.strip()]
    if not keys:
        if not settings.DEBUG:
            raise EncryptionKeyMissing(
                "FIELD_ENCRYPTION_KEY is not set: access tokens cannot be stored. "
                'Set it (python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())").'
            )
        logger.warning("FIELD_ENCRYPTION_KEY is empty: deriving a development key from SECRET_KEY (DEBUG only)")
        keys = [f"dev-only:{settings.SECRET_KEY}"]
    return MultiFernet([Fernet(_as_fernet_key(key)) for key in keys])


def encryption_ready() -> None:
    """Raise EncryptionKeyMissing now rather than after the Graph API calls of a connect."""
    _fernet()


def token_encrypt(token: str) -> str:
    return _fernet().encrypt(token.encode()).decode() if token else ""


def token_decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise TokenUnreadable("The stored access token cannot be decrypted with FIELD_ENCRYPTION_KEY.") from None
