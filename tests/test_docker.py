"""docker/compose.yml is a valid Compose file naming every process, and the entrypoint knows each one."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker" / "compose.yml"


def _compose_command() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_config_passes():
    command = _compose_command()
    if command is not None:
        result = subprocess.run([*command, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    else:
        # No compose binary on this machine: validate against the Compose Specification's own JSON
        # schema (vendored from docker-compose 1.29.2), which is what `config` checks first.
        import jsonschema

        schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
        jsonschema.validate(yaml.safe_load(COMPOSE.read_text()), schema)


def test_compose_has_every_process():
    compose = yaml.safe_load(COMPOSE.read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "scheduler"} <= set(services)
    assert "pgvector" in services["db"]["image"]
    for name in ("web", "worker", "scheduler"):
        assert services[name]["command"] == [name]
        assert services[name]["environment"]["REDIS_URL"].startswith("redis://")
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    for name in ("web)", "worker)", "scheduler)"):
        assert name in entrypoint
