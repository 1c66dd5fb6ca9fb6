"""Production: secure cookies and HSTS; everything else comes from the environment as in base."""

from .base import *  # noqa: F403
from .base import POSTMARK_API_TOKEN, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60)
# Postmark (django-anymail) when POSTMARK_API_TOKEN is set, else SMTP; EMAIL_BACKEND overrides both.
EMAIL_BACKEND = env("EMAIL_BACKEND", default="") or (
    "anymail.backends.postmark.EmailBackend" if POSTMARK_API_TOKEN else "django.core.mail.backends.smtp.EmailBackend"
)
