"""Websocket routes of the chat."""

from django.urls import re_path

from apps.chat.consumers import ChatConsumer

websocket_urlpatterns = [re_path(r"^ws/chat/(?P<org_slug>[a-z][a-z0-9-]{1,39})/$", ChatConsumer.as_asgi())]
