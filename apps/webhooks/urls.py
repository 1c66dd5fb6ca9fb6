"""REST routes of webhooks (filled in by its issue)."""

urlpatterns: list = []
