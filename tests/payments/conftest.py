"""Payments tests: the programmes' fixtures (the staff and regions are tests/conftest.py's), plus
the provider simulator as a real subprocess on a
free loopback port (tests talk to it over HTTP) and a reader of its own journal."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tepat.payments import signatures
from tepat.payments.provider_sim import SIM_PROVIDERS
from tests.programs.conftest import *  # noqa: F403 - the same cast and helpers

# Each provider's own key pair for this test run: the simulator signs with the private halves,
# Tepat verifies with the public ones (TEPAT_PROVIDER_KEYS), as in production.
SIM_PRIVATE, SIM_PUBLIC = signatures.generate_keys(SIM_PROVIDERS)


def provider_private_key(provider: str) -> Any:
    return signatures.load_private_key(SIM_PRIVATE[provider])


@pytest.fixture(scope="session", autouse=True)
def provider_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Set the providers' public keys for Tepat (and for its subprocesses: worker, web) and
    write the private ones where `start_sim` hands them to the simulator."""
    path = tmp_path_factory.mktemp("provider-keys") / "keys.json"
    path.write_text(json.dumps(SIM_PRIVATE))
    saved = {k: os.environ.get(k) for k in ("TEPAT_PROVIDER_KEYS", "TEPAT_PROVIDER_SIM_KEYS_FILE")}
    os.environ["TEPAT_PROVIDER_KEYS"] = json.dumps(SIM_PUBLIC)
    os.environ["TEPAT_PROVIDER_SIM_KEYS_FILE"] = str(path)
    yield path
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sim:
    url: str
    dir: Path
    proc: subprocess.Popen[bytes]

    def journal(self) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(str(self.dir / "journal.sqlite3"))
        try:
            return db.execute(
                "SELECT reference_id, payee_fa, amount, status, reason, replays FROM executions"
            ).fetchall()
        finally:
            db.close()


def start_sim(tmp: Path, **options: Any) -> Sim:
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "tepat.cli",
        "provider-sim",
        "--port",
        str(port),
        "--statement-dir",
        str(tmp),
        "--keys-file",
        os.environ.get("TEPAT_PROVIDER_SIM_KEYS_FILE") or str(tmp / "keys.json"),
    ]
    for k, v in options.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:  # noqa: S310
                if r.status == 200:
                    return Sim(url, tmp, proc)
        except OSError:
            time.sleep(0.1)
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "sim died")
    proc.kill()
    raise RuntimeError("provider-sim did not start")


@pytest.fixture
def provider_sim(tmp_path: Path) -> Iterator[Callable[..., Sim]]:
    started: list[Sim] = []

    def _start(**options: Any) -> Sim:
        sim = start_sim(tmp_path / f"sim{len(started)}", **options)
        started.append(sim)
        return sim

    yield _start
    for sim in started:
        sim.proc.terminate()
        try:
            sim.proc.wait(5)
        except subprocess.TimeoutExpired:
            sim.proc.kill()
