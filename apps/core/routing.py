"""Websocket routes of every domain, gathered in one list for asgi.py."""

websocket_urlpatterns: list = []
