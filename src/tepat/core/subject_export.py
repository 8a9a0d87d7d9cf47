"""The building blocks of the data subject's copy (UU 27/2022 Art. 7 and 13), which every app
that holds personal data uses to declare its own sections of it.

Each app lists its sections (`ExportSection`: a key, a reading-order number, a function) in the
`export_sections` of its privacy declaration (`tepat.core.declarations.AppDeclaration`); the
privacy app collects them and builds the copy (`tepat.privacy.export`). A section function gets
a `SubjectContext` (the subject, their household and its members, plus data that several
sections share, loaded once) and returns `section(...)`: a title, a description, typed columns
(`col`) and rows. The types live here, in the shared kernel, so that no domain app imports the
privacy app and the privacy app imports no page app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from django.utils.translation import gettext as _

T = TypeVar("T")

# Column types: how a renderer shows a value (JSON keeps the value as it is).
TEXT, MONEY, DATE, DATETIME, BOOL, NUMBER, CHANGES = (
    "text", "money", "date", "datetime", "bool", "number", "changes",
)  # fmt: skip


def iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value.isoformat()


def col(key: str, title: str, kind: str = TEXT) -> dict[str, str]:
    return {"key": key, "title": title, "type": kind}


def section(
    title: str,
    description: str,
    columns: list[dict[str, str]],
    rows: list[dict[str, Any]],
    *,
    layout: str = "table",
) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "layout": layout,  # "record": one row shown as label/value pairs
        "columns": columns,
        "rows": rows,
    }


def choice(instance: Any, name: str) -> str:
    """A choice field's label (empty when the field is)."""
    value = getattr(instance, name)
    if value in ("", None):
        return ""
    return str(getattr(instance, f"get_{name}_display")())


@dataclass
class SubjectContext:
    """What several sections share: the subject (a registry Person), their household and its
    members (registry.selectors.MemberView), and whatever an app loads once for its sections
    (`shared`: payments, their log entries, complaints)."""

    person: Any
    household: Any
    members: list[Any]
    member_by_ref: dict[str, Any] = field(default_factory=dict)
    loaded: dict[str, Any] = field(default_factory=dict, repr=False)

    def shared(self, key: str, load: Callable[[], T]) -> T:
        """`load()`'s result, read once per copy: the sections that need the same data (an
        app's payments, say) call this with the same key."""
        if key not in self.loaded:
            self.loaded[key] = load()
        value: T = self.loaded[key]
        return value

    @cached_property
    def member_refs(self) -> list[str]:
        return [m.person.public_id for m in self.members]

    def who(self, ref: str) -> str:
        """How a person appears in the subject's copy: "Anda", or the relationship only."""
        if ref == self.person.public_id:
            return _("Anda")
        member = self.member_by_ref.get(ref)
        if member is None:
            return _("Bukan anggota keluarga saat ini") if ref else ""
        return str(member.person.get_relationship_display())


@dataclass(frozen=True)
class ExportSection:
    """One section of the subject's copy, declared by the app that holds its data. `order`
    places it in the copy (sections are read in ascending order, across all apps)."""

    key: str
    order: int
    build: Callable[[SubjectContext], dict[str, Any]]


# --- the shared kernel's own section: the processing record (core.AuditEvent) ----------------


def _access_labels() -> dict[str, str]:
    return {
        "household.view": _("Data keluarga dibuka petugas"),
        "person.view": _("Data Anda dibuka petugas"),
        "person.view_full": _("Data lengkap Anda (NIK, HP, rekening) dibuka petugas"),
        "household.register": _("Keluarga didaftarkan"),
        "person.restrict": _("Pemrosesan dibatasi"),
        "person.unrestrict": _("Pembatasan pemrosesan dicabut"),
        "proxy.register": _("Kuasa pengambil didaftarkan"),
        "proxy.revoke": _("Kuasa pengambil dicabut"),
        "face.enrol": _("Templat wajah didaftarkan"),
        "citizen.sign_in": _("Masuk ke akun warga"),
        "privacy.export_view": _("Salinan data dibuka di portal"),
        "privacy.export": _("Salinan data diunduh"),
        "privacy.access_answered": _("Permintaan akses dijawab"),
    }


def _accesses_section(ctx: SubjectContext) -> dict[str, Any]:
    from tepat.core.audit import events_about

    labels = _access_labels()
    rows = []
    targets = [("person", ctx.person.public_id), ("household", ctx.household.public_id)]
    for ev in events_about(targets=targets):
        # Staff appear by role, never by name; a read's stated purpose is shown.
        role = getattr(ev.actor, "get_role_display", None)
        rows.append(
            {
                "at": iso(ev.at),
                "action": labels.get(ev.action, ev.action),
                "by": str(role()) if role else (_("Anda atau sistem")),
                "about": _("Anda") if ev.target_type == "person" else _("Rumah tangga"),
                "purpose": str((ev.detail or {}).get("purpose", "")),
            }
        )
    return section(
        _("Rekam jejak pemrosesan"),
        _(
            "Kapan data Anda dan keluarga dibuka, diunduh atau diubah di Tepat, oleh peran apa "
            "dan untuk keperluan apa (petugas ditampilkan menurut perannya, tanpa nama)."
        ),
        [
            col("at", _("Waktu"), DATETIME),
            col("action", _("Kegiatan")),
            col("by", _("Oleh")),
            col("about", _("Tentang")),
            col("purpose", _("Keperluan")),
        ],
        rows,
    )


SECTIONS = (ExportSection("accesses", 240, _accesses_section),)
