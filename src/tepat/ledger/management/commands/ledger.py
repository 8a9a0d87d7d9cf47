"""`tepat ledger sequence|checkpoint|verify|verify-receipt|keygen|reanchor`."""

from __future__ import annotations

import base64
import json
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.core.errors import TepatError
from tepat.core.money import format_rupiah
from tepat.ledger import selectors, services
from tepat.ledger.cross_checks import cross_checks
from tepat.ledger.keys import origin
from tepat.ledger.note import NoteError, Signer, parse_verifier
from tepat.ledger.receipts import receipt_verify


class Command(BaseCommand):
    help = "Transparency log: sequence pending entries, publish checkpoints, verify."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seq = sub.add_parser("sequence", help="move pending entries into the log")
        seq.add_argument("--max-batch", type=int, default=5000)
        seq.add_argument(
            "--loop", action="store_true", help="keep running (the background sequencer)"
        )
        seq.add_argument("--interval", type=float, default=1.0, help="seconds to sleep when idle")
        sub.add_parser("checkpoint", help="sign and publish the current tree head now")
        sub.add_parser("verify", help="recompute the whole log and compare with what is stored")
        rec = sub.add_parser("verify-receipt", help="check a receipt offline")
        rec.add_argument("file", type=Path)
        rec.add_argument("--checkpoint", type=Path, help="a checkpoint obtained elsewhere")
        rec.add_argument(
            "--key", action="append", required=True, help="trusted log verifier key (repeatable)"
        )
        key = sub.add_parser("keygen", help="print a new signer key and its verifier key")
        key.add_argument("--name", default="", help="key name (default: the log origin)")
        key.add_argument("--witness", action="store_true", help="a witness cosignature key")
        rea = sub.add_parser(
            "reanchor",
            help="accept the stored log as it is now (after restoring a backup) and clear the "
            "integrity alarm; only after a person has checked why the sequencer refused",
        )
        rea.add_argument("--reason", required=True, help="why (recorded in the audit log)")
        rea.add_argument("--yes", action="store_true", help="really replace the anchor")
        self._parser: ArgumentParser = parser

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "sequence":
            try:
                self._sequence(opts["max_batch"], opts["loop"], opts["interval"])
            except TepatError as exc:
                raise CommandError(f"ledger sequence REFUSED: {exc.message}") from exc
        elif action == "checkpoint":
            try:
                cp = services.checkpoint_publish()
            except TepatError as exc:
                raise CommandError(f"ledger checkpoint REFUSED: {exc.message}") from exc
            self.stdout.write(cp.note, ending="")
        elif action == "reanchor":
            self._reanchor(opts["reason"], opts["yes"])
        elif action == "verify":
            self._verify()
        elif action == "verify-receipt":
            self._verify_receipt(opts["file"], opts["checkpoint"], opts["key"])
        elif action == "keygen":
            from tepat.ledger.note import ALG_COSIGNATURE_V1, ALG_ED25519

            alg = ALG_COSIGNATURE_V1 if opts["witness"] else ALG_ED25519
            signer = Signer.generate(opts["name"] or origin(), alg=alg)
            self.stdout.write(f"signer key (secret):  {signer.skey()}")
            self.stdout.write(f"verifier key (public): {signer.verifier.vkey()}")

    def _sequence(self, max_batch: int, loop: bool, interval: float) -> None:
        total = 0
        while True:
            result = services.ledger_sequence(max_batch=max_batch)
            total += result.count
            if result.count:
                self.stdout.write(f"sequenced {result.count} entries; log size {result.size}")
            elif not loop:
                break
            else:
                time.sleep(interval)
        self.stdout.write(f"done: {total} entries sequenced")

    def _reanchor(self, reason: str, yes: bool) -> None:
        if not yes:
            raise CommandError("reanchor replaces the sequencer's anchor: add --yes to confirm")
        try:
            moved, cp = services.ledger_reanchor(reason=reason)
        except TepatError as exc:
            raise CommandError(f"reanchor refused: {exc.message}") from exc
        if moved is not None:
            self.stdout.write(f"the old anchor is kept at {moved}")
        size = cp.size if cp is not None else 0
        self.stdout.write(f"anchored at the stored checkpoint of size {size}")

    def _verify(self) -> None:
        report = selectors.log_verify()
        for warning in report.warnings:
            self.stderr.write(f"warning: {warning}")
        if report.ok:
            self.stdout.write(f"OK: {report.size} entries, tiles, head and checkpoints agree")
            self._cross_check()
            return
        for problem in report.problems:
            self.stderr.write(problem)
        where = (
            f"first bad entry: {report.first_bad_index}"
            if report.first_bad_index is not None
            else "first bad entry: unknown"
        )
        raise CommandError(f"log verification FAILED; {where}")

    def _cross_check(self) -> None:
        """The log is intact; now check that the apps' tables still say what the log says (each
        app that owns such a table registers its check, see tepat.ledger.cross_checks)."""
        for check in cross_checks():
            problems = check.check()
            if not problems:
                self.stdout.write(check.ok)
                continue
            for _index, problem in problems:
                self.stderr.write(problem)
            first = problems[0][0]
            where = f"first bad entry: {first}" if first is not None else "first bad entry: unknown"
            raise CommandError(f"{check.failed}; {where}")

    def _verify_receipt(self, file: Path, checkpoint: Path | None, keys: list[str]) -> None:
        try:
            verifiers = [parse_verifier(k) for k in keys]
        except NoteError as exc:
            raise CommandError(f"bad --key: {exc}") from exc
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read receipt {file}: {exc}") from exc
        note = checkpoint.read_text(encoding="utf-8") if checkpoint else None
        proof = None
        if isinstance(data, dict) and isinstance(data.get("consistency"), list):
            proof = [base64.b64decode(p) for p in data["consistency"]]
        result = receipt_verify(
            data, trusted_keys=verifiers, checkpoint_note=note, consistency=proof
        )
        if not result.ok:
            raise CommandError(f"Tidak sah / NOT VALID: {result.reason}")
        self.stdout.write(
            f"Sah / VALID: entry {data['index']} is in the log of size {data['tree_size']}"
        )
        if result.amount is not None:
            self.stdout.write(
                f"Jumlah tepat / exact amount (opened): {format_rupiah(result.amount)}"
            )
