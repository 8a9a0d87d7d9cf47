"""Per-subject data keys and crypto-shredding (UU 27/2022 Art. 8 and 43: erasure).

Each data subject (a person, by public id; a family, by "household:<public id>") gets a random
256-bit data key, stored only wrapped (AES-GCM) under `crypto.derived_key("subject-keys")` in
`core.SubjectKey`. Identifying values that must stay in append-only history are encrypted under
the subject's key. Erasure overwrites the wrapped key (`subject_shred`): every value under it
becomes unreadable at once, and no history row is rewritten.

Tokens are ``sk1:<base64(nonce || ciphertext || tag)>``. The associated data binds the subject and
a caller's context (e.g. the history row's entity), so a token moved to another subject or row
does not decrypt. Decrypting a shredded subject's token answers None; readers show `ERASED`.

Bulk writers (a registry load of a million persons) use a `SubjectKeyring`: keys of many
subjects loaded in one query per 900, new keys inserted in one bulk insert (`save()`), which the
caller must run in the same transaction before the rows that hold the tokens commit.

A wrapped key, once overwritten, survives only in copies the database made before. After the
commit, SQLite's WAL is checkpointed and emptied (the freed bytes were zeroed by secure_delete)
and PostgreSQL's table is vacuumed, so neither database's table files keep it; PostgreSQL's WAL
segments keep it until they are recycled, and archived WAL and backups until they expire (see
docs/privacy.md on backups and erasure; benchmarks/bench_crypto_shred.py counts the copies).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tepat.core import crypto
from tepat.core.bulk import insert_rows
from tepat.core.errors import TepatError
from tepat.core.models import SubjectKey

# Shown wherever a shredded value used to be (pages, exports, API answers).
ERASED = "[dihapus / erased]"

TOKEN_PREFIX = "sk1:"  # noqa: S105 - a format marker, not a secret
WRAP_PURPOSE = "subject-keys"
_NONCE = 12
_CHUNK = 900  # stays under SQLite's limit on bound parameters


class SubjectErased(TepatError):
    """A write for a subject whose key was shredded: nothing new may be recorded about them."""

    def __init__(self, subject: str) -> None:
        super().__init__(
            "Data orang ini sudah dihapus / this person's data was erased", code="erased"
        )
        self.subject = subject


def household_subject(public_id: str) -> str:
    """The subject id of a family's own values (No. KK, address)."""
    return f"household:{public_id}"


@lru_cache(maxsize=4)
def _wrapper(key: bytes) -> AESGCM:
    return AESGCM(key)


def _wrap_aead() -> AESGCM:
    return _wrapper(crypto.derived_key(WRAP_PURPOSE))


def _wrap_aad(subject: str) -> bytes:
    return b"tepat-subject-key:" + subject.encode("utf-8")


def _wrap(subject: str, key: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + _wrap_aead().encrypt(nonce, key, _wrap_aad(subject))


def _unwrap(subject: str, blob: bytes) -> AESGCM | None:
    if len(blob) <= _NONCE:
        return None  # shredded
    key = _wrap_aead().decrypt(blob[:_NONCE], blob[_NONCE:], _wrap_aad(subject))
    return AESGCM(key)


def _aad(subject: str, context: str) -> bytes:
    return f"{subject}\x00{context}".encode()


def _seal(aead: AESGCM, subject: str, plaintext: str, context: str) -> str:
    nonce = os.urandom(_NONCE)
    ct = aead.encrypt(nonce, plaintext.encode("utf-8"), _aad(subject, context))
    return TOKEN_PREFIX + base64.b64encode(nonce + ct).decode("ascii")


def _open(aead: AESGCM, subject: str, token: str, context: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("not a subject-key token")
    raw = binascii.a2b_base64(token[len(TOKEN_PREFIX) :])
    try:
        return aead.decrypt(raw[:_NONCE], raw[_NONCE:], _aad(subject, context)).decode("utf-8")
    except InvalidTag as exc:
        raise ValueError("subject-key token does not decrypt (tampered or misplaced)") from exc


class SubjectKeyring:
    """Data keys of many subjects for one job: loaded in bulk, created in memory, saved in bulk.

    A subject absent from the table gets a new key on its first `encrypt`; `save()` inserts the
    new keys (call it before the rows holding the tokens are written, in the same transaction).
    With `create_now=True` each new key is inserted at once instead (single edits).
    """

    def __init__(self, *, create_now: bool = False, new_subjects: bool = False) -> None:
        self._create_now = create_now
        # Subjects this job has just created (a load's new persons): none can have a key yet,
        # so they are not looked up one by one.
        self._new_subjects = new_subjects
        self._keys: dict[str, AESGCM | None] = {}  # None: shredded
        self._absent: set[str] = set()
        self._new: list[tuple[str, bytes]] = []  # (subject, wrapped key) not saved yet

    def load(self, subjects: Iterable[str]) -> SubjectKeyring:
        wanted = [
            s for s in dict.fromkeys(subjects) if s not in self._keys and s not in self._absent
        ]
        for start in range(0, len(wanted), _CHUNK):
            part = wanted[start : start + _CHUNK]
            found = dict(
                SubjectKey.objects.filter(subject__in=part).values_list("subject", "key_wrapped")
            )
            for s in part:
                if s in found:
                    self._keys[s] = _unwrap(s, bytes(found[s]))
                    self._absent.discard(s)
                else:
                    self._absent.add(s)
        return self

    def _known(self, subject: str) -> bool:
        """Whether the subject has a key row (live or shredded); looked up once per keyring."""
        if subject in self._keys:
            return True
        if subject in self._absent or self._new_subjects:
            return False
        self.load([subject])
        return subject in self._keys

    def _key_for_writing(self, subject: str) -> AESGCM:
        if self._known(subject):
            aead = self._keys[subject]
            if aead is None:
                raise SubjectErased(subject)
            return aead
        raw = AESGCM.generate_key(bit_length=256)
        wrapped = _wrap(subject, raw)
        if self._create_now:
            try:
                with transaction.atomic():
                    SubjectKey.objects.create(subject=subject, key_wrapped=wrapped)
            except IntegrityError:
                # Another writer created it first: use theirs.
                self._absent.discard(subject)
                self.load([subject])
                if subject not in self._keys:
                    raise
                return self._key_for_writing(subject)
        else:
            self._new.append((subject, wrapped))
        aead = AESGCM(raw)
        self._keys[subject] = aead
        return aead

    def encrypt(self, subject: str, plaintext: str, *, context: str) -> str:
        return _seal(self._key_for_writing(subject), subject, plaintext, context)

    def decrypt(self, subject: str, token: str, *, context: str) -> str | None:
        """The plaintext, or None when the subject's key was shredded (or never existed)."""
        aead = self._keys.get(subject) if self._known(subject) else None
        if aead is None:
            return None
        return _open(aead, subject, token, context)

    def is_shredded(self, subject: str) -> bool:
        return self._known(subject) and self._keys[subject] is None

    def save(self) -> int:
        """Insert the keys created since the last save; returns how many."""
        new, self._new = self._new, []
        now = timezone.now()
        # Plain rows, no model instances: a load of a million persons creates a million keys.
        insert_rows(SubjectKey, ["subject", "key_wrapped", "created_at"],
                    [(subject, wrapped, now) for subject, wrapped in new])  # fmt: skip
        return len(new)


def subject_keyring(subjects: Iterable[str] = (), *, create_now: bool = False) -> SubjectKeyring:
    """A keyring with the keys of `subjects` loaded (one query per 900)."""
    return SubjectKeyring(create_now=create_now).load(subjects)


def subject_encrypt(subject: str, plaintext: str, *, context: str) -> str:
    """Encrypt under the subject's key, creating it on first use. Refused once shredded."""
    return SubjectKeyring(create_now=True).encrypt(subject, plaintext, context=context)


def subject_decrypt(subject: str, token: str, *, context: str) -> str | None:
    """Decrypt a `subject_encrypt` token; None once the subject's key was shredded."""
    return SubjectKeyring().decrypt(subject, token, context=context)


def subject_decrypt_many(items: Iterable[tuple[str, str, str]]) -> list[str | None]:
    """`subject_decrypt` for many (subject, token, context): keys loaded in bulk."""
    rows = list(items)
    ring = subject_keyring(s for s, _, _ in rows)
    return [ring.decrypt(s, t, context=c) for s, t, c in rows]


def is_shredded(subject: str) -> bool:
    return SubjectKeyring().is_shredded(subject)


def subject_shred(subject: str) -> None:
    """Destroy the subject's key: overwrite the wrapped key and stamp `shredded_at`.

    Idempotent. A subject that never had a key gets a shredded row, so that nothing can later
    be encrypted for it either."""
    now = timezone.now()
    with transaction.atomic():
        with _secure_delete():
            updated = SubjectKey.objects.filter(subject=subject, shredded_at__isnull=True).update(
                key_wrapped=b"", shredded_at=now
            )
        if not updated:
            SubjectKey.objects.get_or_create(
                subject=subject, defaults={"key_wrapped": b"", "shredded_at": now}
            )
        # Once committed, the old row version goes from the database's files too.
        if connection.vendor == "sqlite":
            transaction.on_commit(_sqlite_checkpoint, robust=True)
        elif connection.vendor == "postgresql":
            transaction.on_commit(_postgres_vacuum, robust=True)


@contextmanager
def _secure_delete() -> Iterator[None]:
    """On SQLite, the bytes a statement frees are zeroed (PRAGMA secure_delete), so the old
    wrapped key does not linger in a free part of the page. (PostgreSQL keeps the old row
    version until VACUUM: `_postgres_vacuum`.)"""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA secure_delete")
        before = cursor.fetchone()[0]
        cursor.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA secure_delete = {int(before)}")


def _postgres_vacuum() -> None:
    """Remove the dead row version that still holds the old wrapped key from the table's pages
    (only the pages changed since the last vacuum are visited). WAL segments keep it until they
    are recycled, and archived WAL and backups until they expire (docs/privacy.md)."""
    table = connection.ops.quote_name(SubjectKey._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {table}")


def _sqlite_checkpoint() -> None:
    """Copy the write-ahead log into the database file and empty it: the page that held the
    old wrapped key is overwritten in the file, and no WAL frame keeps it."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
