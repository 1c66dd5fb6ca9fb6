"""Websocket route of the dashboard; the organization comes from the Host header (apps/tenants/websocket.py)."""

from django.urls import re_path

from apps.dashboard.consumers import DashboardConsumer

websocket_urlpatterns = [re_path(r"^ws/dashboard/$", DashboardConsumer.as_asgi())]
