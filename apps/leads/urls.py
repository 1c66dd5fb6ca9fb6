"""REST routes of leads (filled in by its issue)."""

urlpatterns: list = []
