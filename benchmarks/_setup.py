"""Shared start-up for benchmark scripts: run from the checkout with the local settings (embedded DB by default)."""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import logging

    import django

    django.setup()
    # Benchmarks print their own results; the platform's INFO lines would bury them.
    logging.getLogger("apps").setLevel(logging.WARNING)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)
