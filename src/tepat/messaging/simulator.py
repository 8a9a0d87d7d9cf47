"""The SMS simulator: appends each message to a JSON-lines file and dedupes on the event key;
real gateways (tepat.messaging.gateway) implement the same `send`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from django.conf import settings


class SimulatedSmsGateway:
    def __init__(self, path: Path | None = None) -> None:
        default = Path(getattr(settings, "VAR_DIR", "var")) / "sms-sim" / "outbox.jsonl"
        self.path = path or Path(getattr(settings, "TEPAT_SMS_SIM_PATH", default))
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _seen(self) -> set[str]:
        if not self.path.exists():
            return set()
        return {
            json.loads(line)["event_key"] for line in self.path.read_text().splitlines() if line
        }

    def send(self, messages: Sequence[tuple[str, str, str]]) -> list[str]:
        seen = self._seen()
        with self.path.open("a") as fh:
            for key, ref, body in messages:
                if key not in seen:
                    fh.write(json.dumps({"event_key": key, "to": ref, "body": body}) + "\n")
                    seen.add(key)
        return [m[0] for m in messages]
