"""`tepat ledger` subcommands: sequence, checkpoint, keygen."""

from __future__ import annotations

from django.core.management import call_command

from tepat.ledger import note
from tepat.ledger.models import Checkpoint, LogEntry
from tepat.ledger.services import ledger_enqueue_many


def test_sequence_drains_the_queue_in_batches(db, log_signer, make_payment, capsys):
    ledger_enqueue_many(items=[("payment.sent", make_payment(i), "") for i in range(25)])
    call_command("ledger", "sequence", "--max-batch", "10")
    out = capsys.readouterr().out
    assert "done: 25 entries sequenced" in out
    assert LogEntry.objects.count() == 25
    assert Checkpoint.objects.count() == 3


def test_checkpoint_on_demand_signs_the_head_once(db, log_signer, capsys):
    call_command("ledger", "checkpoint")
    call_command("ledger", "checkpoint")
    text = capsys.readouterr().out
    assert text.startswith("test.tepat/ledger\n0\n")
    assert Checkpoint.objects.count() == 1


def test_keygen_prints_a_usable_key_pair(capsys):
    call_command("ledger", "keygen", "--name", "example.org/log")
    out = capsys.readouterr().out.splitlines()
    signer = note.parse_signer(out[0].split()[-1])
    verifier = note.parse_verifier(out[1].split()[-1])
    assert signer.verifier == verifier


def test_a_dev_key_is_generated_under_var_when_none_is_set(db, settings, tmp_path):
    from tepat.ledger.keys import log_signers

    settings.VAR_DIR = tmp_path
    settings.LEDGER_SIGNING_KEY = ""
    first = log_signers()[0]
    assert (tmp_path / "keys" / "ledger_signing_key").stat().st_mode & 0o777 == 0o600
    assert log_signers()[0] == first


def test_the_loop_mode_keeps_draining_until_stopped(db, log_signer, make_payment, monkeypatch):
    import threading

    import pytest

    from tepat.ledger.management.commands import ledger as command

    ledger_enqueue_many(items=[("payment.sent", make_payment(i), "") for i in range(5)])
    naps = []

    class Stop(Exception):
        pass

    real_sleep, caller = command.time.sleep, threading.current_thread()

    def nap(seconds):
        # time.sleep is patched process-wide: other threads (py4j's, left by the Spark test in
        # the same worker) must keep their real sleep and stay out of the count.
        if threading.current_thread() is not caller:
            return real_sleep(seconds)
        naps.append(seconds)
        if len(naps) == 1:  # new work arrives while the sequencer sleeps
            ledger_enqueue_many(items=[("payment.sent", make_payment(9), "")])
            return
        raise Stop

    monkeypatch.setattr(command.time, "sleep", nap)
    with pytest.raises(Stop):
        call_command("ledger", "sequence", "--loop", "--interval", "0.5")
    assert LogEntry.objects.count() == 6
    assert naps == [0.5, 0.5]
