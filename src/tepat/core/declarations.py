"""Plain types in which each app declares the personal data it holds (UU 27/2022).

An app that holds personal data describes it in its own `privacy.py` module, as one
`AppDeclaration`: why it processes the data and on which legal basis (`Activity`), which data
(`DataCategory`, specific data per Art. 4(2) marked), who receives it and exactly which fields
(`Recipient`), and how long each table keeps it and what happens then (`Retention`). Every model
of the app appears in a retention rule or in `no_personal_data`.

The privacy app collects the declarations (`tepat.privacy.declarations.collect`) into the records
of processing, the processor register, the retention schedule that `tepat privacy purge`
applies, the privacy notice, and the data subject's copy (`export_sections`). The types live
here, in the shared kernel, so that no domain app imports the privacy app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tepat.core.subject_export import ExportSection

Text = str | Promise  # a plain or a lazily translated string


class LegalBasis(StrEnum):
    """The bases of UU 27/2022 Art. 20(2) on which processing may rest."""

    CONSENT = "consent"  # a
    CONTRACT = "contract"  # b
    LEGAL_OBLIGATION = "legal_obligation"  # c
    VITAL_INTEREST = "vital_interest"  # d
    PUBLIC_TASK = "public_task"  # e
    LEGITIMATE_INTEREST = "legitimate_interest"  # f


LEGAL_BASIS_ARTICLE: Mapping[LegalBasis, str] = MappingProxyType(
    {
        LegalBasis.CONSENT: "UU 27/2022 Pasal 20 ayat (2) huruf a",
        LegalBasis.CONTRACT: "UU 27/2022 Pasal 20 ayat (2) huruf b",
        LegalBasis.LEGAL_OBLIGATION: "UU 27/2022 Pasal 20 ayat (2) huruf c",
        LegalBasis.VITAL_INTEREST: "UU 27/2022 Pasal 20 ayat (2) huruf d",
        LegalBasis.PUBLIC_TASK: "UU 27/2022 Pasal 20 ayat (2) huruf e",
        LegalBasis.LEGITIMATE_INTEREST: "UU 27/2022 Pasal 20 ayat (2) huruf f",
    }
)

LEGAL_BASIS_LABEL: Mapping[LegalBasis, Text] = MappingProxyType(
    {
        LegalBasis.CONSENT: _("Persetujuan yang sah secara eksplisit"),
        LegalBasis.CONTRACT: _("Pemenuhan kewajiban perjanjian"),
        LegalBasis.LEGAL_OBLIGATION: _("Pemenuhan kewajiban hukum pengendali"),
        LegalBasis.VITAL_INTEREST: _("Pelindungan kepentingan vital subjek data"),
        LegalBasis.PUBLIC_TASK: _(
            "Pelaksanaan tugas dalam rangka kepentingan umum, pelayanan publik, atau "
            "kewenangan pengendali berdasarkan peraturan perundang-undangan"
        ),
        LegalBasis.LEGITIMATE_INTEREST: _("Kepentingan sah lainnya"),
    }
)


class Specific(StrEnum):
    """The kinds of specific personal data (UU 27/2022 Art. 4(2)) that Tepat can hold."""

    HEALTH = "health"  # a: data dan informasi kesehatan (disability, pregnancy)
    BIOMETRIC = "biometric"  # b
    CHILD = "child"  # e: data anak
    FINANCIAL = "financial"  # f: data keuangan pribadi


SPECIFIC_ARTICLE: Mapping[Specific, str] = MappingProxyType(
    {
        Specific.HEALTH: "UU 27/2022 Pasal 4 ayat (2) huruf a",
        Specific.BIOMETRIC: "UU 27/2022 Pasal 4 ayat (2) huruf b",
        Specific.CHILD: "UU 27/2022 Pasal 4 ayat (2) huruf e",
        Specific.FINANCIAL: "UU 27/2022 Pasal 4 ayat (2) huruf f",
    }
)

SPECIFIC_LABEL: Mapping[Specific, Text] = MappingProxyType(
    {
        Specific.HEALTH: _("data kesehatan"),
        Specific.BIOMETRIC: _("data biometrik"),
        Specific.CHILD: _("data anak"),
        Specific.FINANCIAL: _("data keuangan pribadi"),
    }
)


class Subject(StrEnum):
    """Whose data it is: the categories of data subjects."""

    HOUSEHOLD_MEMBER = "household_member"
    CHILD = "child"
    BENEFICIARY = "beneficiary"
    COMPLAINANT = "complainant"
    REPORTED_PERSON = "reported_person"
    PROXY = "proxy"
    SOURCE_PERSON = "source_person"
    STAFF = "staff"


SUBJECT_LABEL: Mapping[Subject, Text] = MappingProxyType(
    {
        Subject.HOUSEHOLD_MEMBER: _("Anggota keluarga yang terdaftar di registri sosial"),
        Subject.CHILD: _("Anak (di bawah 18 tahun) dalam keluarga terdaftar"),
        Subject.BENEFICIARY: _("Penerima bantuan sosial"),
        Subject.COMPLAINANT: _("Warga yang mengadu, mengusulkan atau menyanggah"),
        Subject.REPORTED_PERSON: _("Orang yang diusulkan atau disanggah oleh warga lain"),
        Subject.PROXY: _("Wakil pengambil bantuan (untuk lansia atau penyandang disabilitas)"),
        Subject.SOURCE_PERSON: _(
            "Orang dalam kiriman data instansi lain (Dukcapil, BPJS, gaji ASN, PLN, survei)"
        ),
        Subject.STAFF: _("Petugas dan staf pengguna Tepat"),
    }
)


class Action(StrEnum):
    """What happens to a row whose retention period has ended."""

    DELETE = "delete"  # the purge job deletes it
    ANONYMISE = "anonymise"  # the purge job overwrites the identifying fields, keeps the rest
    MANUAL = "manual"  # due rows are counted and reported; a documented procedure removes them
    KEEP = "keep"  # no automatic end: the reason says why and what ends it
    EXPIRES = "expires"  # not a table: held with a time-to-live (cache) and gone by itself


ACTION_LABEL: Mapping[Action, Text] = MappingProxyType(
    {
        Action.DELETE: _("dihapus"),
        Action.ANONYMISE: _("dianonimkan"),
        Action.MANUAL: _("dilaporkan untuk dipindahkan ke arsip"),
        Action.KEEP: _("disimpan"),
        Action.EXPIRES: _("kedaluwarsa dengan sendirinya"),
    }
)

PURGED_ACTIONS = frozenset({Action.DELETE, Action.ANONYMISE})


@dataclass(frozen=True)
class DataCategory:
    """A kind of data, with the fields (`app_label.Model.field`) that hold it."""

    key: str
    label: Text
    fields: tuple[str, ...] = ()
    specific: Specific | None = None
    note: Text = ""  # why a field counts as specific data, or where the data comes from


@dataclass(frozen=True)
class ReceivedField:
    """One field a recipient gets: its name as sent and what it holds."""

    name: str
    meaning: Text


@dataclass(frozen=True)
class Recipient:
    """Someone outside Tepat who receives personal data: a processor (Prosesor Data Pribadi,
    Art. 51) acting for the controller, or the public (pseudonymous, published data).

    Two apps may declare the same `key` (the SMS gateway carries sign-in codes and payment
    notices); the collector merges what they say each one receives."""

    key: str
    name: Text
    role: str  # "processor" | "public"
    purpose: Text
    channel: Text  # how it is sent
    receives: tuple[ReceivedField, ...]
    code: tuple[str, ...] = ()  # where in the code it is sent (module:function)
    examples: Text = ""


@dataclass(frozen=True)
class Retention:
    """How long rows of one model (or the rows matching `where`) are kept, and what then.

    `timestamp` is a lookup to the date the period runs from (`created_at`, `run__started_at`);
    a row is due when that date is older than `keep`. `where` / `exclude` narrow the rows the
    rule governs (lookup -> value, as for `QuerySet.filter`). ANONYMISE writes `anonymise`
    (field -> value) over the due rows. `file_field` names a path, relative to the folder that
    the function `file_root` (dotted path) returns, of a file that goes with the row: deleted
    when no remaining row points at it."""

    key: str
    model: str  # "app_label.ModelName"
    label: Text
    timestamp: str
    keep: dt.timedelta
    action: Action
    reason: Text
    where: Mapping[str, Any] = field(default_factory=dict)
    exclude: Mapping[str, Any] = field(default_factory=dict)
    anonymise: Mapping[str, Any] = field(default_factory=dict)
    file_field: str = ""
    file_root: str = ""


@dataclass(frozen=True)
class Activity:
    """One processing activity, as the records of processing (Art. 31) list it."""

    key: str
    name: Text
    purpose: Text
    basis: LegalBasis
    basis_detail: Text  # the statute that gives the task or obligation
    subjects: tuple[Subject, ...]
    categories: tuple[str, ...]  # DataCategory keys (of any app)
    models: tuple[str, ...]  # "app_label.ModelName"
    recipients: tuple[str, ...] = ()  # Recipient keys (of any app)
    automated: Text = ""  # the automated decision it makes, if any (Art. 10)
    sources: Text = ""  # where the data comes from, when not from the subject


@dataclass(frozen=True)
class AppDeclaration:
    app: str  # the app label that declares (models of other apps may be named: sessions)
    activities: tuple[Activity, ...] = ()
    categories: tuple[DataCategory, ...] = ()
    recipients: tuple[Recipient, ...] = ()
    retention: tuple[Retention, ...] = ()
    # Models that hold no personal data at all: named, so that a new model is never missed.
    no_personal_data: tuple[str, ...] = ()
    # The app's sections of the data subject's copy (tepat.core.subject_export), so that the
    # privacy app builds the copy without importing the apps that hold the data.
    export_sections: tuple[ExportSection, ...] = ()


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def years(n: int) -> dt.timedelta:
    """n years, counted as 366 days each: a row is never purged before n calendar years."""
    return dt.timedelta(days=366 * n)
