"""Websocket routes of every domain, gathered in one list for asgi.py."""

from apps.chat.routing import websocket_urlpatterns as chat_routes
from apps.dashboard.routing import websocket_urlpatterns as dashboard_routes

websocket_urlpatterns: list = [*chat_routes, *dashboard_routes]
