"""Browser tests (Playwright + Debian Chromium); `make e2e` runs them, `make test` leaves them out."""
