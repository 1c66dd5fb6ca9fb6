"""Tenant-host REST routes of conversations."""

from django.urls import path

from apps.chat.apis import (
    ConversationDetailView,
    ConversationListView,
    ConversationMessageView,
    ConversationReleaseView,
)

urlpatterns = [
    path("conversations/", ConversationListView.as_view(), name="conversation-list"),
    path("conversations/<int:pk>/", ConversationDetailView.as_view(), name="conversation-detail"),
    path("conversations/<int:pk>/messages/", ConversationMessageView.as_view(), name="conversation-messages"),
    path("conversations/<int:pk>/release/", ConversationReleaseView.as_view(), name="conversation-release"),
]
