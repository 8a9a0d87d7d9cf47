"""What a witness (an auditor, an NGO) runs: cosign a checkpoint only if it extends the last one
it cosigned. Pure: the witness keeps its own state (last size and root) wherever it likes."""

from __future__ import annotations

from dataclasses import dataclass

from tepat.ledger import merkle
from tepat.ledger.note import (
    Signer,
    Verifier,
    add_signatures,
    open_checkpoint,
    sign_note,
)


class WitnessRefused(ValueError):
    pass


@dataclass(frozen=True)
class WitnessState:
    size: int
    root: bytes


def witness_cosign(
    *,
    note: str,
    log_keys: list[Verifier],
    origin: str,
    last: WitnessState | None,
    proof: list[bytes],
    signer: Signer,
    timestamp: int | None = None,
) -> tuple[str, WitnessState]:
    """The note with this witness's cosignature added, and the witness's new state."""
    try:
        checkpoint = open_checkpoint(note, log_keys, origin=origin)
    except ValueError as exc:
        raise WitnessRefused(f"checkpoint refused: {exc}") from exc
    if last is not None and last.size > 0:
        if checkpoint.size < last.size:
            raise WitnessRefused(
                f"checkpoint size {checkpoint.size} is smaller than the last cosigned {last.size}"
            )
        try:
            merkle.verify_consistency(last.size, checkpoint.size, last.root, checkpoint.root, proof)
        except merkle.ProofError as exc:
            raise WitnessRefused(
                f"checkpoint is not consistent with size {last.size}: {exc}"
            ) from exc
    signature = sign_note(_body(note), signer, timestamp=timestamp)
    return add_signatures(note, [signature]), WitnessState(checkpoint.size, checkpoint.root)


def _body(note: str) -> str:
    return note[: note.rindex("\n\n") + 1]
