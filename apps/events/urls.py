"""REST routes of the event log."""

from django.urls import path

from apps.events.apis import EventListView

urlpatterns = [path("events/", EventListView.as_view(), name="event-list")]
