"""C2SP signed notes, checkpoints and witness cosignatures (Ed25519).

A note is UTF-8 text ending in a newline, a blank line, then lines ``— <name> <base64(key id ||
signature)>``. Key id = SHA-256(name || "\\n" || type || public key)[:4], type 0x01 for a log's
Ed25519 key and 0x04 for a witness cosignature (C2SP tlog-cosignature, which signs
``cosignature/v1\\ntime <t>\\n`` + the checkpoint text and puts the 8-byte time before the
signature). Verifiers ignore signatures from keys they do not know, as the spec requires.
Key strings use the Go sumdb/note encoding: ``name+hexid+base64(type || key)`` for verifiers and
``PRIVATE+KEY+name+hexid+base64(type || seed)`` for signers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIG_PREFIX = "— "  # an em dash and a space
MAX_SIGNATURES = 100


class NoteError(ValueError):
    """A malformed note or key, or a note that no known key has signed."""


def key_id(name: str, alg: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public).digest()[:4]


def _valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(frozen=True)
class Verifier:
    name: str
    alg: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public)

    def vkey(self) -> str:
        raw = base64.b64encode(bytes([self.alg]) + self.public).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{raw}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes
    alg: int = ALG_ED25519

    @classmethod
    def generate(cls, name: str, alg: int = ALG_ED25519) -> Signer:
        if not _valid_name(name):
            raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls(name=name, seed=seed, alg=alg)

    @property
    def verifier(self) -> Verifier:
        public = _raw_public(Ed25519PrivateKey.from_private_bytes(self.seed).public_key())
        return Verifier(self.name, self.alg, public)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def skey(self) -> str:
        raw = base64.b64encode(bytes([self.alg]) + self.seed).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{raw}"


def _split_key(text: str, parts: int) -> list[str]:
    fields = text.strip().split("+", parts - 1)
    if len(fields) != parts:
        raise NoteError("a note key has the form name+hexid+base64key")
    return fields


def _decode_key(name: str, hexid: str, b64: str, want_len: int) -> tuple[int, bytes]:
    try:
        raw = base64.b64decode(b64, validate=True)
        kid = bytes.fromhex(hexid)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("a note key is not valid hex/base64") from exc
    if len(raw) != 1 + want_len or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise NoteError("a note key must be an Ed25519 key (type 0x01 or 0x04)")
    if not _valid_name(name) or len(kid) != 4:
        raise NoteError("a note key has a bad name or key id")
    return raw[0], raw[1:]


def parse_verifier(vkey: str) -> Verifier:
    name, hexid, b64 = _split_key(vkey, 3)
    alg, public = _decode_key(name, hexid, b64, 32)
    verifier = Verifier(name, alg, public)
    if verifier.key_id.hex() != hexid.lower():
        raise NoteError("the key id does not match the key")
    return verifier


def parse_signer(skey: str) -> Signer:
    fields = _split_key(skey, 5)
    if fields[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a signer key starts with PRIVATE+KEY+")
    name, hexid, b64 = fields[2:]
    alg, seed = _decode_key(name, hexid, b64, 32)
    signer = Signer(name, seed, alg)
    if signer.verifier.key_id.hex() != hexid.lower():
        raise NoteError("the key id does not match the key")
    return signer


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    raw: bytes  # after the key id

    def line(self) -> str:
        blob = base64.b64encode(self.key_id + self.raw).decode("ascii")
        return f"{SIG_PREFIX}{self.name} {blob}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def sign_note(text: str, signer: Signer, *, timestamp: int | None = None) -> Signature:
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end with a newline and hold no blank line")
    if signer.alg == ALG_COSIGNATURE_V1:
        ts = int(time.time()) if timestamp is None else timestamp
        raw = struct.pack(">Q", ts) + signer.sign(_cosigned_message(text, ts))
    else:
        raw = signer.sign(text.encode("utf-8"))
    return Signature(signer.name, signer.verifier.key_id, raw)


def parse_note(message: str) -> Note:
    if "\n\n" not in message:
        raise NoteError("a signed note needs a blank line before its signatures")
    cut = message.rindex("\n\n")
    text, sigs = message[: cut + 1], message[cut + 2 :]
    if not sigs.endswith("\n"):
        raise NoteError("a signed note ends with a newline")
    signatures: list[Signature] = []
    for line in sigs[:-1].split("\n"):
        if not line.startswith(SIG_PREFIX):
            raise NoteError("a signature line starts with an em dash and a space")
        name, _, blob = line[len(SIG_PREFIX) :].partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except binascii.Error as exc:
            raise NoteError("a signature is not valid base64") from exc
        if not _valid_name(name) or len(raw) < 5:
            raise NoteError("a signature line has a bad name or is too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError("a signed note carries between 1 and 100 signatures")
    return Note(text, tuple(signatures))


def _signature_holds(note: Note, v: Verifier, sig: Signature) -> bool:
    if v.alg == ALG_COSIGNATURE_V1:
        if len(sig.raw) != 8 + 64:
            return False
        (ts,) = struct.unpack(">Q", sig.raw[:8])
        return v.verify(_cosigned_message(note.text, ts), sig.raw[8:])
    return v.verify(note.text.encode("utf-8"), sig.raw)


def _known(v: Verifier, sig: Signature) -> bool:
    return sig.name == v.name and sig.key_id == v.key_id


def verified_by(note: Note, verifiers: list[Verifier]) -> list[Verifier]:
    """The known verifiers whose valid signature the note carries (unknown keys are ignored)."""
    out: list[Verifier] = []
    for v in verifiers:
        for sig in note.signatures:
            if _known(v, sig) and _signature_holds(note, v, sig):
                out.append(v)
                break
    return out


def failed_by(note: Note, verifiers: list[Verifier]) -> list[Verifier]:
    """The known verifiers named by a signature line that does not verify."""
    return [
        v
        for v in verifiers
        if any(_known(v, sig) and not _signature_holds(note, v, sig) for sig in note.signatures)
    ]


def open_note(message: str, verifiers: list[Verifier]) -> Note:
    """Parse a note and insist that at least one known key signed it and that every signature
    from a known key verifies (as Go's note.Open does): one bad signature from a key we trust
    means someone tampered with the note, so the note is refused whole. Signatures from unknown
    keys are ignored, as the C2SP spec requires."""
    note = parse_note(message)
    bad = failed_by(note, verifiers)
    if bad:
        names = ", ".join(sorted({f"{v.name}+{v.key_id.hex()}" for v in bad}))
        raise NoteError(f"a signature from a known key does not verify ({names})")
    if not verified_by(note, verifiers):
        raise NoteError("the note carries no valid signature from a known key")
    return note


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode("ascii")]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint has an origin, a size and a root hash, one per line")
    origin, size_text, root_text = lines[:3]
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError("a checkpoint size is a decimal number without leading zeros")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error as exc:
        raise NoteError("a checkpoint root is not valid base64") from exc
    if len(root) != 32:
        raise NoteError("a checkpoint root is a 32-byte SHA-256 hash")
    return Checkpoint(origin, int(size_text), root, tuple(lines[3:-1]))


def sign_checkpoint(checkpoint: Checkpoint, signers: list[Signer]) -> str:
    text = checkpoint.text()
    return Note(text, tuple(sign_note(text, s) for s in signers)).render()


def open_checkpoint(
    message: str, verifiers: list[Verifier], *, origin: str | None = None
) -> Checkpoint:
    note = open_note(message, verifiers)
    checkpoint = parse_checkpoint(note.text)
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint


def add_signatures(message: str, signatures: list[Signature]) -> str:
    note = parse_note(message)
    known = {(s.name, s.key_id) for s in note.signatures}
    extra = tuple(s for s in signatures if (s.name, s.key_id) not in known)
    return Note(note.text, note.signatures + extra).render()
