"""Breach detectors (UU 27/2022 Art. 46): mass access read from the audit trail.

Five detectors, each producing `Finding`s that `services.detectors_run` turns into alerts:

- reads: records of personal data a user read in one clock hour, against that user's own
  baseline (below);
- exports: exports and downloads (actions matching `exports.actions`) per user per hour, against
  the same kind of baseline;
- reveals: full-record reveals (NIK, KK in clear: `reveals.actions`, or any audited read whose
  detail says `revealed`) per user per hour, against the same kind of baseline;
- failed log-ins: per account and per network (IPv4 /24, IPv6 /64 by default) per hour, against
  fixed limits;
- off hours: personal-data reads, reveals and exports outside office hours (local time of
  `off_hours.timezone`, office days, holidays), per user per local day.

The baseline. For each user, the hourly counts of the `baseline_days` days before the evaluated
window, counting only the hours in which the user did the thing at all ("active hours": a clerk
reads nothing at night, and with the idle hours counted the median of almost everyone is 0). Of
these, the 95th percentile (nearest rank) is the user's busiest normal hour: exceeded in about
one working hour out of twenty. An hour is unusual when its count is above
`factor` x p95 and above `floor` (the floor keeps a user who reads 3 records an hour from raising
an alert for reading 20). A user with fewer than `min_baseline_hours` active hours has no
baseline yet: their limit is `new_user`. The median is reported beside it, for the reader.
A slow ramp-up moves the baseline with it; the absolute per-hour limits in core.audit
(TEPAT_BULK_READ_ALERT_*) still catch the largest volumes.

Settings: TEPAT_BREACH_DETECTORS, a dict (or its JSON text in the environment) overriding any of
DEFAULTS below, key by key. An unknown key or a value of the wrong kind is an error that names it
(`DetectorConfigError`), raised by `tepat monitoring detect` and by `tepat check`.
"""

from __future__ import annotations

import copy
import datetime as dt
import fnmatch
import ipaddress
import json
import math
import statistics
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, IntegerField, Q, QuerySet, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncHour

from tepat.accounts.models import User
from tepat.core.errors import TepatError
from tepat.core.models import AuditEvent
from tepat.monitoring.models import Metric

HOUR = dt.timedelta(hours=1)

DEFAULTS: dict[str, Any] = {
    "baseline_days": 14,
    "min_baseline_hours": 8,
    "lookback_hours": 24,
    "reads": {"factor": 5.0, "floor": 100, "new_user": 500},
    "exports": {
        "factor": 3.0,
        "floor": 3,
        "new_user": 5,
        "actions": ["*export*", "*download*", "verification.day_list"],
    },
    "reveals": {
        "factor": 3.0,
        "floor": 5,
        "new_user": 10,
        "actions": ["person.view_full"],
    },
    "failed_logins": {
        "per_account": 10,
        "per_network": 30,
        "ipv4_prefix": 24,
        "ipv6_prefix": 64,
        "actions": ["login.failed", "login.totp_failed"],
    },
    "off_hours": {
        "enabled": True,
        "timezone": "Asia/Jakarta",
        "start": "07:00",
        "end": "19:00",
        "days": [0, 1, 2, 3, 4],  # Monday = 0
        "holidays": [],  # "YYYY-MM-DD", local dates
        "min_events": 1,
        "exempt_roles": [],
    },
}


class DetectorConfigError(TepatError):
    """TEPAT_BREACH_DETECTORS holds a value the detectors cannot use."""

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(
            f"TEPAT_BREACH_DETECTORS: {key}: {message}", code="invalid_setting", field=key
        )


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SpikeConfig:
    factor: float
    floor: int
    new_user: int
    actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class FailedLoginConfig:
    per_account: int
    per_network: int
    ipv4_prefix: int
    ipv6_prefix: int
    actions: tuple[str, ...]


@dataclass(frozen=True)
class OffHoursConfig:
    enabled: bool
    timezone: zoneinfo.ZoneInfo
    start: dt.time
    end: dt.time
    days: frozenset[int]
    holidays: frozenset[dt.date]
    min_events: int
    exempt_roles: frozenset[str]

    def is_off_hours(self, at: dt.datetime) -> bool:
        local = at.astimezone(self.timezone)
        if local.weekday() not in self.days or local.date() in self.holidays:
            return True
        return not (self.start <= local.time() < self.end)


@dataclass(frozen=True)
class DetectorConfig:
    baseline_days: int
    min_baseline_hours: int
    lookback_hours: int
    reads: SpikeConfig
    exports: SpikeConfig
    reveals: SpikeConfig
    failed_logins: FailedLoginConfig
    off_hours: OffHoursConfig


def _merge(base: dict[str, Any], override: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        name = f"{prefix}{key}"
        if key not in base:
            known = ", ".join(sorted(base))
            raise DetectorConfigError(f"unknown setting (known: {known})", key=name)
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise DetectorConfigError("must be an object of settings", key=name)
            out[key] = _merge(base[key], value, f"{name}.")
        else:
            out[key] = value
    return out


def _int(raw: dict[str, Any], key: str, name: str, *, low: int, high: int | None = None) -> int:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise DetectorConfigError(f"{value!r} is not a whole number", key=name)
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise DetectorConfigError(f"{value} must be {bounds}", key=name)
    return value


def _float(raw: dict[str, Any], key: str, name: str, *, low: float) -> float:
    value = raw[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise DetectorConfigError(f"{value!r} is not a number", key=name)
    if value < low:
        raise DetectorConfigError(f"{value} must be at least {low}", key=name)
    return float(value)


def _strings(raw: dict[str, Any], key: str, name: str) -> tuple[str, ...]:
    value = raw[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DetectorConfigError(f"{value!r} is not a list of non-empty strings", key=name)
    return tuple(v.strip() for v in value)


def _time(raw: dict[str, Any], key: str, name: str) -> dt.time:
    value = raw[key]
    parsed = None
    if isinstance(value, str):
        try:
            parsed = dt.time.fromisoformat(value)
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is not None:
        raise DetectorConfigError(f"{value!r} is not a time of day HH:MM", key=name)
    return parsed


def _spike(raw: dict[str, Any], name: str, *, with_actions: bool) -> SpikeConfig:
    return SpikeConfig(
        factor=_float(raw, "factor", f"{name}.factor", low=1.0),
        floor=_int(raw, "floor", f"{name}.floor", low=1),
        new_user=_int(raw, "new_user", f"{name}.new_user", low=1),
        actions=_strings(raw, "actions", f"{name}.actions") if with_actions else (),
    )


def _off_hours(raw: dict[str, Any]) -> OffHoursConfig:
    name = "off_hours"
    if not isinstance(raw["enabled"], bool):
        raise DetectorConfigError(f"{raw['enabled']!r} is not true or false", key=f"{name}.enabled")
    try:
        tz = zoneinfo.ZoneInfo(str(raw["timezone"]))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise DetectorConfigError(
            f"{raw['timezone']!r} is not a time zone (e.g. Asia/Jakarta, Asia/Makassar)",
            key=f"{name}.timezone",
        ) from None
    start, end = _time(raw, "start", f"{name}.start"), _time(raw, "end", f"{name}.end")
    if not start < end:
        raise DetectorConfigError(f"start {start} must be before end {end}", key=f"{name}.end")
    days = raw["days"]
    if not isinstance(days, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days
    ):
        raise DetectorConfigError(
            f"{days!r} is not a list of weekdays 0 (Monday) to 6 (Sunday)", key=f"{name}.days"
        )
    holidays = set()
    for value in _strings(raw, "holidays", f"{name}.holidays") if raw["holidays"] else ():
        try:
            holidays.add(dt.date.fromisoformat(value))
        except ValueError:
            raise DetectorConfigError(
                f"{value!r} is not a date YYYY-MM-DD", key=f"{name}.holidays"
            ) from None
    from tepat.accounts.models import Role

    exempt = _strings(raw, "exempt_roles", f"{name}.exempt_roles") if raw["exempt_roles"] else ()
    unknown = sorted(set(exempt) - set(Role.values))
    if unknown:
        raise DetectorConfigError(
            f"unknown role {', '.join(unknown)} (roles: {', '.join(Role.values)})",
            key=f"{name}.exempt_roles",
        )
    return OffHoursConfig(
        enabled=raw["enabled"],
        timezone=tz,
        start=start,
        end=end,
        days=frozenset(days),
        holidays=frozenset(holidays),
        min_events=_int(raw, "min_events", f"{name}.min_events", low=1),
        exempt_roles=frozenset(exempt),
    )


def detector_config(value: Any = None) -> DetectorConfig:
    """The detectors' settings: DEFAULTS overridden by TEPAT_BREACH_DETECTORS (or `value`)."""
    override = getattr(settings, "TEPAT_BREACH_DETECTORS", None) if value is None else value
    if isinstance(override, str):
        if not override.strip():
            override = None
        else:
            try:
                override = json.loads(override)
            except json.JSONDecodeError as exc:
                raise DetectorConfigError(f"not valid JSON ({exc.msg})", key="(text)") from None
    if override is None:
        override = {}
    if not isinstance(override, dict):
        raise DetectorConfigError("must be an object of settings", key="(value)")
    raw = _merge(DEFAULTS, override)
    failed = raw["failed_logins"]
    return DetectorConfig(
        baseline_days=_int(raw, "baseline_days", "baseline_days", low=1, high=90),
        min_baseline_hours=_int(raw, "min_baseline_hours", "min_baseline_hours", low=1),
        lookback_hours=_int(raw, "lookback_hours", "lookback_hours", low=1, high=24 * 31),
        reads=_spike(raw["reads"], "reads", with_actions=False),
        exports=_spike(raw["exports"], "exports", with_actions=True),
        reveals=_spike(raw["reveals"], "reveals", with_actions=True),
        failed_logins=FailedLoginConfig(
            per_account=_int(failed, "per_account", "failed_logins.per_account", low=1),
            per_network=_int(failed, "per_network", "failed_logins.per_network", low=1),
            ipv4_prefix=_int(failed, "ipv4_prefix", "failed_logins.ipv4_prefix", low=8, high=32),
            ipv6_prefix=_int(failed, "ipv6_prefix", "failed_logins.ipv6_prefix", low=16, high=128),
            actions=_strings(failed, "actions", "failed_logins.actions"),
        ),
        off_hours=_off_hours(raw["off_hours"]),
    )


# --- findings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One subject crossed one detector's line in one window."""

    metric: str
    subject: str  # "user:<pk>", "account:<username>", "net:<cidr>"
    label: str  # who, for people: the username or the network
    window_start: dt.datetime
    window_end: dt.datetime
    value: float
    threshold: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Baseline:
    active_hours: int
    median: float | None
    p95: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"active_hours": self.active_hours, "median": self.median, "p95": self.p95}


def nearest_rank(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def baseline_of(counts: Iterable[float]) -> Baseline:
    values = [float(c) for c in counts if c > 0]
    if not values:
        return Baseline(0, None, None)
    return Baseline(len(values), float(statistics.median(values)), nearest_rank(values, 95))


def spike_threshold(base: Baseline, cfg: SpikeConfig, *, min_hours: int) -> tuple[float, str]:
    """The limit for one user's hour, and in words how it was reached."""
    if base.active_hours < min_hours or base.p95 is None:
        limit = float(max(cfg.floor, cfg.new_user))
        return limit, "new_user"
    return max(float(cfg.floor), cfg.factor * base.p95), "baseline"


def _hour(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Window:
    """What one run looks at: hours in [start, end), with the baseline in [base_start, start)."""

    start: dt.datetime
    end: dt.datetime
    base_start: dt.datetime

    @classmethod
    def ending(cls, now: dt.datetime, cfg: DetectorConfig) -> Window:
        end = _hour(now) + HOUR  # the current hour, so far
        start = end - dt.timedelta(hours=cfg.lookback_hours)
        return cls(start, end, start - dt.timedelta(days=cfg.baseline_days))


def _actions_matching(patterns: Iterable[str], since: dt.datetime) -> list[str]:
    """The audit actions (seen since `since`) matching any of the glob `patterns`."""
    patterns = list(patterns)
    seen = (
        AuditEvent.objects.filter(at__gte=since)
        .order_by()
        .values_list("action", flat=True)
        .distinct()
    )
    return sorted(a for a in seen if any(fnmatch.fnmatchcase(a, p) for p in patterns))


def _records() -> Coalesce:
    # audit_read stores how many records a read showed; older or hand-made events count as one.
    return Coalesce(Cast(KeyTextTransform("records", "detail"), IntegerField()), 1)


def _hourly(qs: QuerySet[AuditEvent], *, records: bool) -> dict[int, dict[dt.datetime, float]]:
    """{user pk: {hour (UTC): count}} of `qs`, counted in the database."""
    rows = (
        qs.filter(actor__isnull=False)
        .annotate(hour=TruncHour("at", tzinfo=dt.UTC))
        .order_by()
        .values("actor_id", "hour")
        .annotate(n=Sum(_records()) if records else Count("id"))
    )
    out: dict[int, dict[dt.datetime, float]] = defaultdict(dict)
    for r in rows:
        out[int(r["actor_id"])][_hour(r["hour"])] = float(r["n"] or 0)
    return out


def _labels(pks: Iterable[int]) -> dict[int, User]:
    return {u.pk: u for u in User.objects.filter(pk__in=set(pks))}


def _spikes(
    *,
    metric: str,
    qs: QuerySet[AuditEvent],
    cfg: SpikeConfig,
    config: DetectorConfig,
    window: Window,
    records: bool,
    unit: str,
) -> Iterator[Finding]:
    counts = _hourly(qs.filter(at__gte=window.base_start, at__lt=window.end), records=records)
    flagged: list[tuple[int, dt.datetime, float, float, str, Baseline]] = []
    for pk, hours in counts.items():
        base = baseline_of(n for h, n in hours.items() if h < window.start)
        limit, how = spike_threshold(base, cfg, min_hours=config.min_baseline_hours)
        for hour, n in sorted(hours.items()):
            if hour >= window.start and n > limit:
                flagged.append((pk, hour, n, limit, how, base))
    users = _labels(pk for pk, *_ in flagged)
    for pk, hour, n, limit, how, base in flagged:
        user = users.get(pk)
        yield Finding(
            metric=metric,
            subject=f"user:{pk}",
            label=user.username if user else f"#{pk}",
            window_start=hour,
            window_end=hour + HOUR,
            value=n,
            threshold=limit,
            detail={
                "unit": unit,
                "limit_from": how,  # "baseline": factor x p95 (at least floor); "new_user"
                "factor": cfg.factor,
                "floor": cfg.floor,
                "new_user": cfg.new_user,
                "baseline_days": config.baseline_days,
                "baseline": base.as_dict(),
                "role": user.role if user else "",
            },
        )


def read_spikes(config: DetectorConfig, window: Window) -> Iterator[Finding]:
    """Records of personal data read per user per hour, against the user's own baseline."""
    qs = AuditEvent.objects.filter(detail__read=True)
    yield from _spikes(
        metric=Metric.READ_SPIKE, qs=qs, cfg=config.reads, config=config, window=window,
        records=True, unit="records",
    )  # fmt: skip


def export_spikes(config: DetectorConfig, window: Window) -> Iterator[Finding]:
    """Exports and downloads per user per hour, against the user's own baseline."""
    actions = _actions_matching(config.exports.actions, window.base_start)
    if not actions:
        return
    qs = AuditEvent.objects.filter(action__in=actions)
    yield from _spikes(
        metric=Metric.EXPORT_SPIKE, qs=qs, cfg=config.exports, config=config, window=window,
        records=False, unit="exports",
    )  # fmt: skip


def _reveal_q(config: DetectorConfig) -> Q:
    return Q(action__in=list(config.reveals.actions)) | Q(detail__revealed=True)


def reveal_spikes(config: DetectorConfig, window: Window) -> Iterator[Finding]:
    """Reveals of masked values (full NIK, KK, phone) per user per hour, against the baseline."""
    qs = AuditEvent.objects.filter(_reveal_q(config))
    yield from _spikes(
        metric=Metric.REVEAL_SPIKE, qs=qs, cfg=config.reveals, config=config, window=window,
        records=False, unit="reveals",
    )  # fmt: skip


def network_of(ip: str, cfg: FailedLoginConfig) -> str:
    address = ipaddress.ip_address(ip)
    prefix = cfg.ipv4_prefix if address.version == 4 else cfg.ipv6_prefix
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def failed_logins(config: DetectorConfig, window: Window) -> Iterator[Finding]:
    """Failed log-in steps per account and per network, per hour, against fixed limits."""
    cfg = config.failed_logins
    rows = (
        AuditEvent.objects.filter(
            action__in=list(cfg.actions), at__gte=window.start, at__lt=window.end
        )
        .annotate(hour=TruncHour("at", tzinfo=dt.UTC))
        .order_by()
        .values("hour", "actor_id", "actor_label", "ip_address", "detail__username")
        .annotate(n=Count("id"))
    )
    per_account: dict[tuple[str, dt.datetime], float] = defaultdict(float)
    account_label: dict[str, str] = {}
    per_network: dict[tuple[str, dt.datetime], float] = defaultdict(float)
    network_accounts: dict[tuple[str, dt.datetime], set[str]] = defaultdict(set)
    for r in rows:
        hour = _hour(r["hour"])
        if r["actor_id"] is not None:
            subject, label = f"user:{r['actor_id']}", str(r["actor_label"])
        else:
            name = str(r["detail__username"] or "").strip()[:50]
            subject, label = (f"account:{name}", name) if name else ("", "")
        if subject:
            per_account[(subject, hour)] += r["n"]
            account_label[subject] = label
        if r["ip_address"]:
            net = network_of(str(r["ip_address"]), cfg)
            per_network[(net, hour)] += r["n"]
            if label:
                network_accounts[(net, hour)].add(label)
    for (subject, hour), n in sorted(per_account.items()):
        if n >= cfg.per_account:
            yield Finding(
                metric=Metric.FAILED_LOGINS, subject=subject, label=account_label[subject],
                window_start=hour, window_end=hour + HOUR, value=n,
                threshold=float(cfg.per_account), detail={"unit": "failures", "per": "account"},
            )  # fmt: skip
    for (net, hour), n in sorted(per_network.items()):
        if n >= cfg.per_network:
            accounts = sorted(network_accounts[(net, hour)])
            yield Finding(
                metric=Metric.FAILED_LOGINS, subject=f"net:{net}", label=net,
                window_start=hour, window_end=hour + HOUR, value=n,
                threshold=float(cfg.per_network),
                detail={"unit": "failures", "per": "network", "accounts": len(accounts),
                        "some_accounts": accounts[:10]},
            )  # fmt: skip


def _uniform_hour(cfg: OffHoursConfig, hour: dt.datetime) -> bool | None:
    """Whether a whole UTC hour lies off hours (True) or inside them (False); None when office
    hours begin or end within it (a start like 07:30, or a zone offset that is not whole hours),
    so that its events must be looked at one by one."""
    local = hour.astimezone(cfg.timezone)
    whole = local.minute == 0 and local.second == 0
    edges = all(
        t.minute == 0 and t.second == 0 and t.microsecond == 0 for t in (cfg.start, cfg.end)
    )
    if not (whole and edges):
        return None
    return cfg.is_off_hours(hour)


def off_hours(config: DetectorConfig, window: Window) -> Iterator[Finding]:
    """Personal-data reads, reveals and exports outside office hours, per user per local day.
    Counted per user and hour in the database; only an hour that office hours begin or end
    within is read event by event."""
    cfg = config.off_hours
    if not cfg.enabled:
        return
    exports = _actions_matching(config.exports.actions, window.start)
    access = AuditEvent.objects.filter(
        Q(detail__read=True) | _reveal_q(config) | Q(action__in=exports),
        at__gte=window.start,
        at__lt=window.end,
    )
    per_day: dict[tuple[int, dt.date], list[tuple[dt.datetime, int]]] = defaultdict(list)
    for pk, hours in _hourly(access, records=False).items():
        for hour, n in hours.items():
            uniform = _uniform_hour(cfg, hour)
            if uniform is None:
                times = access.filter(actor_id=pk, at__gte=hour, at__lt=hour + HOUR)
                n = float(
                    sum(1 for at in times.values_list("at", flat=True) if cfg.is_off_hours(at))
                )
            elif not uniform:
                continue
            if n:
                per_day[(pk, hour.astimezone(cfg.timezone).date())].append((hour, int(n)))
    users = _labels(pk for pk, _ in per_day)
    for (pk, day), day_hours in sorted(per_day.items()):
        user = users.get(pk)
        total = sum(n for _, n in day_hours)
        if user is None or user.role in cfg.exempt_roles or total < cfg.min_events:
            continue
        start = dt.datetime.combine(day, dt.time(0), tzinfo=cfg.timezone).astimezone(dt.UTC)
        day_hours.sort()
        yield Finding(
            metric=Metric.OFF_HOURS, subject=f"user:{pk}", label=user.username,
            window_start=start, window_end=start + dt.timedelta(days=1),
            value=float(total), threshold=float(cfg.min_events),
            detail={
                "unit": "events", "timezone": str(cfg.timezone), "local_date": day.isoformat(),
                "office": f"{cfg.start:%H:%M}-{cfg.end:%H:%M}", "days": sorted(cfg.days),
                "hours": [f"{h.astimezone(cfg.timezone):%H:%M}" for h, _ in day_hours][:24],
                "role": user.role,
            },
        )  # fmt: skip


DETECTORS = (read_spikes, export_spikes, reveal_spikes, failed_logins, off_hours)


def findings(*, now: dt.datetime, config: DetectorConfig | None = None) -> list[Finding]:
    """Everything every detector finds in the window ending at `now`."""
    config = config or detector_config()
    window = Window.ending(now, config)
    return [f for detector in DETECTORS for f in detector(config, window)]
