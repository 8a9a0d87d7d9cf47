"""Payments tests: the programmes' cast, plus the provider simulator as a real subprocess on a
free loopback port (tests talk to it over HTTP) and a reader of its own journal."""

from __future__ import annotations

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

from tests.programs.conftest import *  # noqa: F403 - the same cast and helpers


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
