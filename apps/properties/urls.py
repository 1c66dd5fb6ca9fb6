"""REST routes of listings (filled in by the listings issue)."""

urlpatterns: list = []
