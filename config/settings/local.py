"""Local development (`make run`): debug pages; e-mail as base decides (console unless POSTMARK_API_TOKEN is set)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
