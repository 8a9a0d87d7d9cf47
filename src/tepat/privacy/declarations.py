"""The apps' privacy declarations, collected and checked.

Every installed app may have a `privacy` module with a `DECLARATION` (types in
`tepat.core.declarations`). `collect()` gathers them into one `Register`: the records of
processing, the processor register (one entry per recipient, with what each app sends it), and
the retention schedule with any `TEPAT_RETENTION_DAYS` override applied.

Nothing wrong is ignored: a declaration that names an unknown model, field or lookup, a rule
without what its action needs, or an override for an unknown rule is a `DeclarationError` naming
each problem, and the purge refuses to run (`collect(strict=True)`, the default). The pages
collect leniently and show the problems at the top. `undeclared_models()` lists models that no
declaration mentions: the test suite fails on any.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, FieldError, ImproperlyConfigured
from django.db import models
from django.utils.module_loading import import_string

from tepat.core.declarations import (
    PURGED_ACTIONS,
    Action,
    Activity,
    AppDeclaration,
    DataCategory,
    ReceivedField,
    Recipient,
    Retention,
    Specific,
)
from tepat.core.subject_export import ExportSection

MODULE = "privacy"
RECIPIENT_ROLES = ("processor", "public")


class DeclarationError(ImproperlyConfigured):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            "privacy declarations are wrong (fix the app's privacy.py):\n- " + "\n- ".join(problems)
        )


@dataclass(frozen=True)
class Delivery:
    """What one app sends one recipient, for one purpose."""

    app: str
    purpose: Any
    channel: Any
    receives: tuple[ReceivedField, ...]
    code: tuple[str, ...]


@dataclass
class RecipientEntry:
    """A recipient with every delivery the apps declare for it (the processor register)."""

    key: str
    name: Any
    role: str
    examples: Any
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def field_names(self) -> list[str]:
        out: list[str] = []
        for d in self.deliveries:
            out += [f.name for f in d.receives if f.name not in out]
        return out


@dataclass
class Register:
    declarations: list[AppDeclaration]
    activities: list[Activity]
    categories: dict[str, DataCategory]
    recipients: dict[str, RecipientEntry]
    retention: list[Retention]  # overrides applied
    no_personal_data: set[str]
    problems: list[str]

    def rules_for(self, models_: Iterable[str]) -> list[Retention]:
        wanted = set(models_)
        return [r for r in self.retention if r.model in wanted]

    def specific_of(self, activity: Activity) -> list[Specific]:
        out: list[Specific] = []
        for key in activity.categories:
            cat = self.categories.get(key)
            if cat is not None and cat.specific is not None and cat.specific not in out:
                out.append(cat.specific)
        return out

    @property
    def declared_models(self) -> set[str]:
        return {r.model for r in self.retention if r.model}


def _app_declarations() -> list[AppDeclaration]:
    found: list[AppDeclaration] = []
    for config in apps.get_app_configs():
        name = f"{config.name}.{MODULE}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # the app declares nothing (Django's own apps)
            raise
        declaration = getattr(module, "DECLARATION", None)
        if not isinstance(declaration, AppDeclaration):
            raise DeclarationError([f"{name} has no DECLARATION of type AppDeclaration"])
        found.append(declaration)
    return found


def export_sections(
    declarations: Iterable[AppDeclaration] | None = None,
) -> list[ExportSection]:
    """The sections of the data subject's copy that the apps declare, in reading order."""
    found = _app_declarations() if declarations is None else declarations
    return sorted((s for d in found for s in d.export_sections), key=lambda s: s.order)


def retention_overrides() -> dict[str, int]:
    """TEPAT_RETENTION_DAYS: {rule key: days}, as a setting or a JSON environment variable."""
    raw: Any = getattr(settings, "TEPAT_RETENTION_DAYS", None)
    if raw is None:
        raw = os.environ.get("TEPAT_RETENTION_DAYS", "")
    if isinstance(raw, str):
        raw = json.loads(raw) if raw.strip() else {}
    if not isinstance(raw, Mapping):
        raise DeclarationError(["TEPAT_RETENTION_DAYS must map rule keys to days"])
    return {str(k): v for k, v in raw.items()}


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def field_at(model: type[models.Model], lookup: str) -> models.Field[Any, Any] | None:
    """The field a `a__b__c` path ends at, following relations; None when a step is unknown."""
    current: Any = model
    found: Any = None
    for part in lookup.split("__"):
        if current is None:
            return None
        try:
            found = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        current = found.related_model if found.is_relation else None
    return found if isinstance(found, models.Field) else None


def _check_rule(rule: Retention, problems: list[str]) -> None:
    where = f"retention rule {rule.key!r}"
    if rule.action == Action.EXPIRES:
        if rule.model or rule.timestamp or rule.where or rule.exclude or rule.anonymise:
            problems.append(f"{where}: an expiring (cache) rule names no model or lookups")
        return
    model = _model(rule.model)
    if model is None:
        problems.append(f"{where}: unknown model {rule.model!r}")
        return
    if rule.action != Action.KEEP or rule.timestamp:
        ts = field_at(model, rule.timestamp) if rule.timestamp else None
        if not isinstance(ts, models.DateField):  # DateTimeField is a DateField
            problems.append(
                f"{where}: timestamp {rule.timestamp!r} is not a date field of {rule.model}"
            )
    try:
        model._base_manager.filter(**rule.where).exclude(**rule.exclude)
    except (FieldError, FieldDoesNotExist, ValueError, TypeError) as exc:
        problems.append(f"{where}: bad where/exclude on {rule.model}: {exc}")
    if rule.action == Action.ANONYMISE and not rule.anonymise:
        problems.append(f"{where}: anonymise names no field to overwrite")
    if rule.anonymise and rule.action != Action.ANONYMISE:
        problems.append(f"{where}: only an anonymise rule may name fields to overwrite")
    for name in rule.anonymise:
        try:
            f = model._meta.get_field(name)
        except FieldDoesNotExist:
            problems.append(f"{where}: unknown field {rule.model}.{name}")
            continue
        if getattr(f, "primary_key", False) or getattr(f, "unique", False):
            problems.append(f"{where}: {rule.model}.{name} is a key; it cannot be overwritten")
    if rule.file_field:
        try:
            model._meta.get_field(rule.file_field)
        except FieldDoesNotExist:
            problems.append(f"{where}: unknown file field {rule.model}.{rule.file_field}")
        try:
            if not callable(import_string(rule.file_root)):
                raise ImportError(rule.file_root)
        except ImportError:
            problems.append(f"{where}: file_root {rule.file_root!r} is not an importable function")
    if rule.action not in PURGED_ACTIONS and rule.file_field:
        problems.append(f"{where}: only a delete or anonymise rule removes files")


def _check_field_ref(ref: str, where: str, problems: list[str]) -> None:
    app_model, _sep, name = ref.rpartition(".")
    model = _model(app_model)
    if model is None:
        problems.append(f"{where}: unknown model in {ref!r}")
        return
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        problems.append(f"{where}: unknown field {ref!r}")


def _apply_overrides(retention: list[Retention], problems: list[str]) -> list[Retention]:
    try:
        overrides = retention_overrides()
    except (DeclarationError, ValueError) as exc:
        problems.append(f"TEPAT_RETENTION_DAYS: {exc}")
        return retention
    keys = {r.key for r in retention}
    for key in sorted(set(overrides) - keys):
        problems.append(f"TEPAT_RETENTION_DAYS names an unknown rule {key!r}")
    out = []
    for rule in retention:
        if rule.key in overrides:
            value = overrides[rule.key]
            if rule.action in (Action.KEEP, Action.EXPIRES):
                problems.append(f"TEPAT_RETENTION_DAYS: rule {rule.key!r} has no period to set")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"TEPAT_RETENTION_DAYS: {rule.key!r} needs whole days >= 0")
            else:
                rule = replace(rule, keep=dt.timedelta(days=value))
        out.append(rule)
    return out


def collect(
    *, strict: bool = True, declarations: Iterable[AppDeclaration] | None = None
) -> Register:
    """Every app's declarations (or the ones given) in one register. `strict`: raise
    DeclarationError on any problem (the purge); otherwise the problems travel in
    `Register.problems` (the pages)."""
    problems: list[str] = []
    declarations = list(_app_declarations() if declarations is None else declarations)
    activities: list[Activity] = []
    categories: dict[str, DataCategory] = {}
    recipients: dict[str, RecipientEntry] = {}
    retention: list[Retention] = []
    no_personal: set[str] = set()
    for d in declarations:
        for cat in d.categories:
            if cat.key in categories:
                problems.append(f"data category {cat.key!r} is declared twice")
            categories[cat.key] = cat
            for ref in cat.fields:
                _check_field_ref(ref, f"data category {cat.key!r}", problems)
        for rec in d.recipients:
            _add_recipient(recipients, d.app, rec, problems)
        for rule in d.retention:
            if any(r.key == rule.key for r in retention):
                problems.append(f"retention rule {rule.key!r} is declared twice")
            _check_rule(rule, problems)
            retention.append(rule)
        for label in d.no_personal_data:
            if _model(label) is None:
                problems.append(f"{d.app}: no_personal_data names an unknown model {label!r}")
            no_personal.add(label)
        activities.extend(d.activities)
    sections = export_sections(declarations)
    for attr in ("key", "order"):
        seen = [getattr(s, attr) for s in sections]
        problems += [f"export section {attr} {v!r} is declared twice"
                     for v in sorted(set(seen)) if seen.count(v) > 1]  # fmt: skip
    declared = {r.model for r in retention if r.model}
    for label in sorted(declared & no_personal):
        problems.append(f"{label} is declared both with personal data and without")
    for act in activities:
        where = f"activity {act.key!r}"
        problems += [f"{where}: unknown data category {k!r}" for k in act.categories
                     if k not in categories]  # fmt: skip
        problems += [f"{where}: unknown recipient {k!r}" for k in act.recipients
                     if k not in recipients]  # fmt: skip
        for label in act.models:
            if _model(label) is None:
                problems.append(f"{where}: unknown model {label!r}")
            elif label not in declared:
                problems.append(f"{where}: model {label} has no retention rule")
    if len({a.key for a in activities}) != len(activities):
        problems.append("two activities share a key")
    retention = _apply_overrides(retention, problems)
    if strict and problems:
        raise DeclarationError(problems)
    return Register(declarations, activities, categories, recipients, retention, no_personal,
                    problems)  # fmt: skip


def _add_recipient(
    into: dict[str, RecipientEntry], app: str, rec: Recipient, problems: list[str]
) -> None:
    where = f"{app}: recipient {rec.key!r}"
    if rec.role not in RECIPIENT_ROLES:
        problems.append(f"{where}: role must be one of {', '.join(RECIPIENT_ROLES)}")
    for f in rec.receives:
        if not str(f.meaning).strip():
            problems.append(f"{where}: field {f.name!r} is sent but its meaning is not declared")
    if not rec.receives:
        problems.append(f"{where}: declares no field it receives")
    entry = into.get(rec.key)
    if entry is None:
        entry = into[rec.key] = RecipientEntry(rec.key, rec.name, rec.role, rec.examples)
    elif str(entry.name) != str(rec.name) or entry.role != rec.role:
        problems.append(f"{where}: declared with another name or role elsewhere")
    if rec.examples and not entry.examples:
        entry.examples = rec.examples
    entry.deliveries.append(Delivery(app, rec.purpose, rec.channel, rec.receives, rec.code))


# --- completeness --------------------------------------------------------------------------

# A field whose name says it holds something about a person. A model listed as holding no
# personal data must have none of these (staff references through a user foreign key are
# covered by the audit trail and the staff account declaration).
PERSONAL_FIELD = re.compile(
    r"(^|_)(nik|kk|phone|address|birth|person|household|beneficiary|subject|holder|payee|"
    r"ip_address|latitude|longitude|contact|full_name|name_search|template|id_number|"
    r"session_data|raw)(_|$)"
)
PERSONAL_MODELS = frozenset({"registry.Person", "registry.Household"})


def concrete_models() -> list[str]:
    """Every concrete model with its own table (not proxies, not auto-created link tables)."""
    return sorted(
        m._meta.label
        for m in apps.get_models()
        if not m._meta.proxy and not m._meta.auto_created and m._meta.managed
    )


def undeclared_models(register: Register) -> list[str]:
    declared = register.declared_models | register.no_personal_data
    return [label for label in concrete_models() if label not in declared]


def suspicious_no_personal_data(register: Register) -> list[str]:
    """Models declared without personal data that have a field looking like personal data."""
    out = []
    for label in sorted(register.no_personal_data):
        model = _model(label)
        if model is None:
            continue
        for f in [*model._meta.fields, *model._meta.many_to_many]:  # forward fields only
            related = f.related_model
            if isinstance(related, type) and related._meta.label in PERSONAL_MODELS:
                out.append(f"{label}.{f.name} points at {related._meta.label}")
            elif PERSONAL_FIELD.search(f.name):
                out.append(f"{label}.{f.name} looks like personal data")
    return out
