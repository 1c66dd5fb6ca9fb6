"""Minify the chat widget (src/widget.js) into apps/chat/static/chat/widget.min.js with rjsmin."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import rjsmin

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "src" / "widget.js"
OUTPUT = HERE.parent / "apps" / "chat" / "static" / "chat" / "widget.min.js"
# The budget for what a visitor downloads before the chat can open.
MAX_BYTES = 30 * 1024


def build(source: Path = SOURCE) -> str:
    """The minified widget. Deterministic, so a test can compare it with the committed file."""
    # keep_bang_comments keeps the one-line /*! … */ banner that names the source file.
    return rjsmin.jsmin(source.read_text(encoding="utf-8"), keep_bang_comments=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the built file is stale or too big")
    args = parser.parse_args(argv)
    minified = build()
    size = len(minified.encode("utf-8"))
    if size > MAX_BYTES:
        print(f"widget.min.js would be {size} bytes, over the {MAX_BYTES}-byte budget", file=sys.stderr)
        return 1
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != minified:
            print(f"{OUTPUT} is stale: run `python frontend_widget/build.py`", file=sys.stderr)
            return 1
        print(f"{OUTPUT.name} is up to date ({size} bytes)")
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(minified, encoding="utf-8")
    print(f"wrote {OUTPUT} ({size} bytes, source {SOURCE.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
