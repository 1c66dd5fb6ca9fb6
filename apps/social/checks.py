"""Deploy check: access tokens cannot be stored without FIELD_ENCRYPTION_KEY outside DEBUG."""

from __future__ import annotations

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def field_encryption_key_set(app_configs=None, **kwargs):
    if settings.FIELD_ENCRYPTION_KEY or settings.DEBUG:
        return []
    return [
        checks.Warning(
            "FIELD_ENCRYPTION_KEY is empty: connecting a Facebook page or Instagram account will fail.",
            hint='Set it to the output of python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())".',
            id="social.W001",
        )
    ]
