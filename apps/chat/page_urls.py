"""Routes of the public host for visitors: the widget loader and the full-page chat."""

from django.urls import re_path

from apps.chat.pages import chat_page, embed_loader

# Organization slugs are DNS labels (apps.tenants.models.SLUG_RE); anything else is not a route.
SLUG = r"(?P<org_slug>[a-z][a-z0-9-]{1,39})"

urlpatterns = [
    re_path(rf"^embed/{SLUG}\.js$", embed_loader, name="chat-embed-loader"),
    re_path(rf"^chat/{SLUG}/?$", chat_page, name="chat-page"),
]
