"""The calibration spec: which survey columns hold the outcome, weight, areas and proxies, who is
poor, how many are selected, and which models are compared. The format is documented key by key
in docs/targeting.md; a minimal spec:

    [survey]
    consumption = "KAPITA"   # monthly per-capita consumption
    weight = "WEIGHT"
    area = "KODE_KEC"

    [proxies]
    floor_material = { column = "LANTAI", kind = "categorical" }
    floor_area_m2 = { column = "LUAS_LANTAI", kind = "numeric", log = true }

Parsing is strict: an unknown section or key, a value of the wrong type or two settings that
contradict each other is an error naming the key, so a typo (`area_effect`, `metod`) never
silently changes the model. Every problem is collected and raised at once.

Proxy names are the registry's feature names (tepat.targeting.features) so that a calibrated
model can score the registry; a survey-only proxy says `registry = false`.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from tepat.core.errors import Problems, ValidationFailed

METHODS = ("ols", "quantile", "enet", "logit", "ordinal", "gbm", "ensemble")
OUTCOMES = ("continuous", "binary", "ordinal")
KINDS = ("numeric", "categorical")
AREA_EFFECTS = ("none", "fixed", "random")
QUOTA_SCOPES = ("national", "area")
# Which models fit which outcome: a regression of log consumption, or a model of classes.
METHODS_FOR = {
    "continuous": ("ols", "quantile", "enet", "gbm", "ensemble"),
    "binary": ("logit", "ordinal", "gbm", "ensemble"),
    "ordinal": ("logit", "ordinal", "gbm", "ensemble"),
}
DEFAULT_METHOD = {"continuous": "ols", "binary": "logit", "ordinal": "ordinal"}
AREA_LEVELS = (2, 4, 6, 10)  # province, regency, district, village digits of the village code
DEFAULT_SHARE = 0.4  # bansos targets the bottom 40 % when the spec names no line or share
MIN_ROWS = 20  # fewer usable survey rows is an error; `min_rows` (default 200) a warning
SPLINE_KNOTS = (3, 10)

SECTIONS: dict[str, tuple[str, ...]] = {
    "survey": (
        "consumption", "outcome", "outcome_kind", "classes", "poor_classes", "weight", "area",
        "area_level", "cv_group", "quota_area", "household_size",
    ),
    "target": ("poverty_line", "poor_share", "quota", "quota_scope", "quota_column", "quota_file"),
    "model": (
        "methods", "select", "method", "quantile", "area_effects", "folds", "seed", "coverage",
        "min_rows",
    ),
    "features": ("missing_indicators", "squares", "interactions", "splines"),
    "proxies": (),  # free names, each a table of PROXY_KEYS
    "filters": ("keep",),
}  # fmt: skip
PROXY_KEYS = ("column", "kind", "log", "recode", "missing", "registry")
# A command-line/API override wins over the file, and clears the file's settings it replaces
# (so `--method gbm` on a spec with `methods = [...]` is not a contradiction).
OVERRIDE_CLEARS: dict[str, tuple[str, ...]] = {
    "method": ("methods", "select"),
    "methods": ("method", "select"),
    "coverage": ("quota",),
    "quota": ("coverage",),
    "poverty_line": ("poor_share",),
    "poor_share": ("poverty_line",),
    "quota_column": ("quota_file",),
    "quota_file": ("quota_column",),
}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AreaEffects(str):
    """ "none" | "fixed" | "random". False when "none", and equal to the old boolean
    (`AreaEffects("fixed") == True`), so callers written for `area_effects: bool` (a Django
    BooleanField among them) keep working while they move to the three-way setting."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return str.__ne__(self, "none")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool):
            return bool(self) is other
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__


@dataclass(frozen=True)
class Proxy:
    name: str
    column: str
    kind: str
    log: bool = False
    recode: dict[str, Any] = field(default_factory=dict)  # raw value (str) -> value
    missing: tuple[str, ...] = ()  # raw values meaning missing
    registry: bool = True  # False: survey-only, the model calibrates but does not score


@dataclass
class Spec:
    consumption: str
    proxies: list[Proxy]
    outcome: str = ""
    outcome_kind: str = "continuous"
    classes: list[str] = field(default_factory=list)
    poor_classes: list[str] = field(default_factory=list)
    weight: str = ""
    area: str = ""
    area_level: int = 0
    cv_group: str = ""
    quota_area: str = ""
    household_size: str = ""
    poverty_line: float | None = None
    poor_share: float | None = None
    quota: float = DEFAULT_SHARE
    quota_scope: str = "national"
    quota_column: str = ""
    quota_file: str = ""
    methods: list[str] = field(default_factory=lambda: ["ols"])
    select: str = "ols"
    method: str = "ols"  # the selected (or first) method, for callers that fit one
    quantile: float = 0.5
    area_effects: str = AreaEffects("none")
    folds: int = 5
    seed: int = 20261128
    coverage: float = DEFAULT_SHARE  # == quota, for old callers
    min_rows: int = 200
    missing_indicators: bool = False
    squares: list[str] = field(default_factory=list)
    interactions: list[tuple[str, str]] = field(default_factory=list)
    splines: dict[str, int] = field(default_factory=dict)
    filters: str = ""

    def __post_init__(self) -> None:
        value: Any = self.area_effects
        if isinstance(value, bool):
            value = "fixed" if value else "none"
        self.area_effects = AreaEffects(value)

    @property
    def outcome_column(self) -> str:
        """The survey column of the outcome: consumption, or the class column."""
        return self.consumption or self.outcome

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["area_effects"] = str(self.area_effects)
        return out


# --- reading typed values ------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def _suggest(name: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(name, list(options), n=1, cutoff=0.6)
    return f" — maksud Anda / did you mean `{close[0]}`?" if close else ""


def _unknown(p: Problems, where: str, key: str, allowed: tuple[str, ...] | list[str]) -> None:
    place = f"[{where}]" if where else "the top level"
    p.error(
        f"{where}.{key}" if where else key,
        "unknown_key",
        f"kunci tidak dikenal / unknown key `{key}` in {place}; allowed: "
        f"{', '.join(allowed)}{_suggest(key, allowed)}",
    )


class _Table:
    """One TOML table with typed getters that record a problem (naming the key) on a bad value."""

    def __init__(self, p: Problems, where: str, table: dict[str, Any]) -> None:
        self.p, self.where, self.table = p, where, table

    def field(self, key: str) -> str:
        return f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return key in self.table

    def _wrong(self, key: str, expected: str) -> None:
        value = self.table[key]
        self.p.error(
            self.field(key),
            "type",
            f"`{key}` harus {expected} / must be {expected}, bukan / not "
            f"{_type_name(value)} {value!r}",
        )

    def text(self, key: str, default: str = "") -> str:
        if key not in self.table:
            return default
        value = self.table[key]
        if not isinstance(value, str):
            self._wrong(key, "a string")
            return default
        return value.strip()

    def choice(self, key: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(key, default)
        if key in self.table and isinstance(self.table[key], str) and value not in options:
            self.p.error(
                self.field(key),
                "choice",
                f"`{key}` harus salah satu dari / must be one of {', '.join(options)}, bukan / "
                f"not {value!r}{_suggest(value, options)}",
            )
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        if key not in self.table:
            return default
        value = self.table[key]
        if not isinstance(value, bool):
            self._wrong(key, "true or false")
            return default
        return value

    def integer(self, key: str, default: int, lo: int, hi: int | None = None) -> int:
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong(key, "an integer")
            return default
        if value < lo or (hi is not None and value > hi):
            span = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            self.p.error(
                self.field(key), "range", f"`{key}` harus / must be {span}, bukan / not {value}"
            )
            return default
        return value

    def number(
        self, key: str, default: float | None, *, lo: float, hi: float | None, inclusive: bool
    ) -> float | None:
        """A number in (lo, hi) (or [lo, hi] when inclusive); hi None: no upper bound."""
        if key not in self.table:
            return default
        value = self.table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong(key, "a number")
            return default
        v = float(value)
        ok = math.isfinite(v) and (
            (lo <= v and (hi is None or v <= hi))
            if inclusive
            else (lo < v and (hi is None or v < hi))
        )
        if not ok:
            span = (
                f"{'[' if inclusive else '('}{lo:g}, {hi:g}{']' if inclusive else ')'}"
                if hi is not None
                else f"> {lo:g}"
            )
            self.p.error(
                self.field(key),
                "range",
                f"`{key}` harus dalam / must be in {span}, bukan / not {v:g}",
            )
            return default
        return v

    def labels(self, key: str) -> list[str] | None:
        """A list of class labels: strings, or integers written without quotes."""
        if key not in self.table:
            return None
        value = self.table[key]
        if not isinstance(value, list) or not all(
            isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in value
        ):
            self._wrong(key, 'a list of strings, e.g. ["1", "2"]')
            return None
        out = [str(v).strip() for v in value]
        dup = sorted({v for v in out if out.count(v) > 1})
        if dup:
            self.p.error(
                self.field(key), "duplicate", f"nilai ganda / duplicated: {', '.join(dup)}"
            )
            return None
        return out

    def names(self, key: str) -> list[str]:
        if key not in self.table:
            return []
        value = self.table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self._wrong(key, "a list of strings")
            return []
        return [v.strip() for v in value]


def _section(p: Problems, raw: dict[str, Any], name: str) -> _Table:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        p.error(name, "type", f"[{name}] harus tabel / must be a table, not {_type_name(value)}")
        value = {}
    allowed = SECTIONS[name]
    if allowed:
        for key in value:
            if key not in allowed:
                _unknown(p, name, key, allowed)
    return _Table(p, name, value)


# --- the row filter ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    """A parsed `[filters] keep` expression over survey columns, and each column's kind as the
    constants it is compared with imply (numeric or text)."""

    expression: str
    tree: ast.expr
    columns: dict[str, str]


def _filter_problem(message: str, node: ast.AST | None = None, col: int | None = None) -> NoReturn:
    where = col if col is not None else getattr(node, "col_offset", 0) + 1
    p = Problems()
    p.error("filters.keep", "filter", f"kolom / column {where}: {message}")
    raise ValidationFailed(p.items)


def _constant_kind(node: ast.expr) -> str | None:
    """numeric | text for a constant (or a negated number); None for anything else."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        node = node.operand
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return None if isinstance(node.value, bool) else "numeric"
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or node.value is None:
            return None
        if isinstance(node.value, int | float):
            return "numeric"
        if isinstance(node.value, str):
            return "text"
    return None


def _filter_check(node: ast.expr, columns: dict[str, str]) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _filter_check(v, columns)
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _filter_check(node.operand, columns)
        return
    if not isinstance(node, ast.Compare):
        _filter_problem(
            "perlu perbandingan kolom dengan nilai / expected a comparison of a column with a "
            "value, e.g. JML_ART >= 1 and PROV in ['32', '33']",
            node,
        )
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
        if isinstance(op, ast.In | ast.NotIn):
            if not isinstance(left, ast.Name) or not isinstance(right, ast.List | ast.Tuple):
                _filter_problem(
                    "`in` perlu kolom dan daftar / `in` needs a column and a list", node
                )
            kinds = {_constant_kind(e) for e in right.elts}
            if None in kinds or len(kinds) != 1:
                _filter_problem(
                    "daftar berisi angka saja atau teks saja / a list holds only numbers or only "
                    "text",
                    right,
                )
            name, kind = left, kinds.pop()
        else:
            if isinstance(op, ast.Is | ast.IsNot):
                _filter_problem("`is` tidak diizinkan / `is` is not allowed; use ==", node)
            column, other = (left, right) if isinstance(left, ast.Name) else (right, left)
            if not isinstance(column, ast.Name):
                _filter_problem(
                    "salah satu sisi harus nama kolom / one side must be a column name", node
                )
            if isinstance(other, ast.Name):
                _filter_problem(
                    "bandingkan kolom dengan nilai, bukan kolom lain / compare a column with a "
                    "value, not with another column",
                    other,
                )
            name, kind = column, _constant_kind(other)
            if kind == "text" and not isinstance(op, ast.Eq | ast.NotEq):
                _filter_problem(
                    "teks hanya dengan == atau != / text compares only with == or !=", node
                )
        if kind is None:
            _filter_problem("nilai tidak diizinkan / value not allowed", right)
        if columns.setdefault(name.id, kind) != kind:
            _filter_problem(
                f"kolom {name.id} dibandingkan dengan angka dan teks / column {name.id} is "
                "compared with both numbers and text",
                name,
            )


def filter_parse(expression: str) -> Filter:
    """Parse `[filters] keep`: comparisons of survey columns with constants (`<`, `<=`, `==`, `!=`,
    `>=`, `>`, chained `1 <= X <= 7`, `in` / `not in` a list), joined with `and`, `or`, `not`.
    Walked with `ast`, never evaluated as Python; raises ValidationFailed naming the position."""
    text = " ".join((expression or "").split())
    if not text:
        _filter_problem("ekspresi kosong / empty expression", col=1)
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        _filter_problem(f"sintaks salah / syntax error: {exc.msg}", col=exc.offset or 1)
    columns: dict[str, str] = {}
    _filter_check(tree, columns)
    return Filter(text, tree, columns)


# --- the spec ---------------------------------------------------------------------------------------


def _proxy(p: Problems, name: str, item: Any) -> Proxy | None:
    where = f"proxies.{name}"
    if not _NAME.match(name):
        p.error(
            where,
            "name",
            "nama proksi: huruf, angka, _ / a proxy name is letters, digits and _, e.g. "
            "floor_area_m2",
        )
        return None
    if not isinstance(item, dict):
        p.error(
            where,
            "type",
            f'proksi harus tabel / a proxy must be a table, e.g. {{ column = "X" }}, not '
            f"{_type_name(item)}",
        )
        return None
    for key in item:
        if key not in PROXY_KEYS:
            _unknown(p, where, key, PROXY_KEYS)
    t = _Table(p, where, item)
    column = t.text("column")
    if not column:
        if "column" not in item or isinstance(item["column"], str):
            p.error(f"{where}.column", "required", "perlu `column` / needs `column`")
        return None
    kind = t.choice("kind", KINDS, "numeric")
    log = t.boolean("log", False)
    if log and kind != "numeric":
        p.error(f"{where}.log", "kind", "log hanya untuk proksi numerik / log only for numeric")
    recode: dict[str, Any] = {}
    if "recode" in item:
        raw = item["recode"]
        if not isinstance(raw, dict):
            t._wrong("recode", "a table, e.g. { ya = 1, tidak = 0 }")
        for key, value in raw.items() if isinstance(raw, dict) else ():
            ok = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(float(value))
                if kind == "numeric"
                else isinstance(value, str)
            )
            if not ok:
                need = (
                    "angka / must be a number"
                    if kind == "numeric"
                    else "teks / must be a string (a category label)"
                )
                p.error(
                    f"{where}.recode.{key}",
                    "type",
                    f"nilai recode proksi {kind} harus {need}, bukan / not {_type_name(value)} "
                    f"{value!r}",
                )
                continue
            recode[str(key).strip()] = float(value) if kind == "numeric" else str(value).strip()
    missing: list[str] = []
    if "missing" in item:
        raw = item["missing"]
        if not isinstance(raw, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in raw
        ):
            t._wrong("missing", 'a list of values, e.g. ["-", "99999"]')
        else:
            missing = [str(v).strip() for v in raw]
            clash = sorted(set(missing) & set(recode))
            if clash:
                p.error(
                    f"{where}.missing",
                    "conflict",
                    f"nilai di recode dan missing sekaligus / values both recoded and missing: "
                    f"{', '.join(clash)}",
                )
    registry = t.boolean("registry", True)
    return Proxy(name, column, kind, log, recode, tuple(missing), registry)


def _features(
    p: Problems, t: _Table, proxies: list[Proxy]
) -> tuple[list[str], list[tuple[str, str]], dict[str, int]]:
    kinds = {x.name: x.kind for x in proxies}

    def numeric(where: str, name: str) -> bool:
        if name not in kinds:
            p.error(
                where,
                "unknown_proxy",
                f"proksi tidak dikenal / unknown proxy `{name}`; proxies: "
                f"{', '.join(kinds)}{_suggest(name, list(kinds))}",
            )
            return False
        if kinds[name] != "numeric":
            p.error(
                where,
                "kind",
                f"`{name}` kategorik; hanya proksi numerik / `{name}` is categorical; only "
                "numeric proxies",
            )
            return False
        return True

    squares = [s for s in t.names("squares") if numeric(t.field("squares"), s)]
    interactions: list[tuple[str, str]] = []
    raw = t.table.get("interactions", [])
    if not isinstance(raw, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair)
        for pair in raw
    ):
        t._wrong("interactions", 'a list of pairs, e.g. [["household_size", "floor_area_m2"]]')
        raw = []
    for a, b in raw:
        if a == b:
            p.error(
                t.field("interactions"), "pair", f"`{a}` dengan dirinya / with itself: use squares"
            )
        elif numeric(t.field("interactions"), a) and numeric(t.field("interactions"), b):
            interactions.append((a, b))
    splines: dict[str, int] = {}
    raw_s = t.table.get("splines", {})
    if not isinstance(raw_s, dict):
        t._wrong("splines", "a table, e.g. { head_age = 4 }")
        raw_s = {}
    lo, hi = SPLINE_KNOTS
    for name, knots in raw_s.items():
        where = f"features.splines.{name}"
        if isinstance(knots, bool) or not isinstance(knots, int) or not lo <= knots <= hi:
            p.error(where, "range", f"jumlah knot {lo}..{hi} / knots must be an integer {lo}..{hi}")
        elif numeric(where, name):
            splines[name] = knots
    for group, names in (
        ("squares", squares),
        ("interactions", [f"{a}*{b}" for a, b in interactions]),
    ):
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            p.error(t.field(group), "duplicate", f"ganda / duplicated: {', '.join(dup)}")
    return squares, interactions, splines


def _apply_overrides(
    p: Problems, raw: dict[str, Any], overrides: dict[str, Any] | None
) -> dict[str, Any]:
    """The raw spec with command-line/API overrides placed in their sections."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not given:
        return raw
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in raw.items()}
    home = {k: s for s, keys in SECTIONS.items() for k in keys}
    placed: list[tuple[str, str, Any]] = []
    for key, value in given.items():
        section, _, name = key.rpartition(".")
        section = section or home.get(name, "")
        if name not in SECTIONS.get(section, ()) or section == "proxies":
            options = sorted(home)
            p.error(
                key,
                "unknown_override",
                f"pengaturan tidak dikenal / unknown setting `{key}`; allowed: "
                f"{', '.join(options)}{_suggest(name, options)}",
            )
            continue
        placed.append((section, name, value))
    names = {n for _, n, _ in placed}
    for _section_name, name, _value in placed:
        for cleared in OVERRIDE_CLEARS.get(name, ()):
            if cleared not in names and isinstance(out.get(home[cleared]), dict):
                out[home[cleared]].pop(cleared, None)
    for section, name, value in placed:
        if name == "quota_file" and isinstance(value, str) and value:
            value = str(Path(value).absolute())  # given on the command line: from where it ran
        if not isinstance(out.get(section), dict):
            out[section] = {}
        out[section][name] = value
    return out


def spec_from_dict(
    raw: dict[str, Any],
    *,
    overrides: dict[str, Any] | None = None,
    allow_files: bool = False,
    base_dir: Path | None = None,
) -> Spec:
    """Validate a parsed TOML spec; raises ValidationFailed listing every problem.

    `allow_files`: whether `target.quota_file` may name a file on this machine (the command
    line); a spec that came through the web form or the API never may. A relative quota_file is
    resolved against `base_dir` (the spec file's folder)."""
    p = Problems()
    raw = _apply_overrides(p, raw, overrides)
    for key, value in raw.items():
        if key not in SECTIONS:
            if isinstance(value, dict):
                _unknown(p, "", key, tuple(SECTIONS))
            else:
                home = [s for s, keys in SECTIONS.items() if key in keys]
                hint = f"; it belongs in [{home[0]}]" if home else _suggest(key, tuple(SECTIONS))
                p.error(
                    key,
                    "unknown_key",
                    f"kunci di luar bagian / `{key}` is outside any section{hint}",
                )
    survey = _section(p, raw, "survey")
    target = _section(p, raw, "target")
    model = _section(p, raw, "model")
    features = _section(p, raw, "features")
    filters = _section(p, raw, "filters")

    # -- outcome
    consumption = survey.text("consumption")
    outcome = survey.text("outcome")
    classes = survey.labels("classes")
    poor_classes = survey.labels("poor_classes")
    if not consumption and not outcome:
        p.error(
            "survey.consumption",
            "required",
            "kolom konsumsi per kapita (atau `outcome` kelas) wajib / required: the per-capita "
            "consumption column, or `outcome` (a class column)",
        )
    if consumption and outcome:
        p.error(
            "survey.outcome",
            "conflict",
            "pilih `consumption` atau `outcome`, bukan keduanya / give consumption (continuous) or "
            "outcome (classes), not both",
        )
    if outcome and not survey.has("outcome_kind"):
        kind_default = "binary" if classes is not None and len(classes) == 2 else "ordinal"
    else:
        kind_default = "continuous"
    outcome_kind = survey.choice("outcome_kind", OUTCOMES, kind_default)
    if outcome_kind == "continuous":
        if outcome and not consumption:
            p.error(
                "survey.outcome",
                "kind",
                "hasil kontinu memakai `consumption` / a continuous outcome is given as "
                "`consumption`; `outcome` is a class column (outcome_kind binary or ordinal)",
            )
        for key, given in (("classes", classes), ("poor_classes", poor_classes)):
            if given is not None:
                p.error(
                    f"survey.{key}",
                    "kind",
                    f"`{key}` hanya untuk hasil kelas / only for a binary or ordinal outcome",
                )
        classes, poor_classes = [], []
    else:
        if consumption and not outcome:
            p.error(
                "survey.outcome",
                "required",
                f"hasil {outcome_kind} perlu kolom `outcome` / a {outcome_kind} outcome needs "
                "the class column `outcome`",
            )
        if classes is None:
            p.error(
                "survey.classes",
                "required",
                "perlu `classes`, termiskin dulu / needs `classes`, poorest first, e.g. "
                '["1", "2", "3", "4"]',
            )
            classes = []
        elif outcome_kind == "binary" and len(classes) != 2:
            p.error("survey.classes", "range", "hasil biner perlu 2 kelas / binary needs 2 classes")
        elif len(classes) < 2:
            p.error("survey.classes", "range", "minimal 2 kelas / at least 2 classes")
        if poor_classes is None:
            if outcome_kind == "binary" and classes:
                poor_classes = classes[:1]
            else:
                p.error(
                    "survey.poor_classes",
                    "required",
                    'sebutkan kelas miskin / name the poor classes, e.g. poor_classes = ["1", "2"]',
                )
                poor_classes = []
        elif classes:
            unknown = [c for c in poor_classes if c not in classes]
            if unknown:
                p.error(
                    "survey.poor_classes",
                    "unknown_class",
                    f"bukan anggota classes / not among classes ({', '.join(classes)}): "
                    f"{', '.join(unknown)}",
                )
            elif not poor_classes or len(poor_classes) >= len(classes):
                p.error(
                    "survey.poor_classes",
                    "range",
                    "minimal satu kelas miskin dan satu tidak / at least one poor and one "
                    "non-poor class",
                )
            elif outcome_kind == "ordinal" and set(poor_classes) != set(
                classes[: len(poor_classes)]
            ):
                p.error(
                    "survey.poor_classes",
                    "order",
                    f"kelas miskin harus yang termiskin / the poor classes must be the poorest "
                    f"(first) classes: {', '.join(classes[: len(poor_classes)])}",
                )

    # -- columns
    weight = survey.text("weight")
    area = survey.text("area")
    area_level = survey.integer("area_level", 0, 0, 10)
    if area_level and area_level not in AREA_LEVELS:
        p.error(
            "survey.area_level",
            "range",
            f"digit kode wilayah / digits of the village code: one of {AREA_LEVELS}",
        )
    cv_group = survey.text("cv_group")
    quota_area = survey.text("quota_area")
    household_size = survey.text("household_size")

    # -- target
    if target.has("poverty_line") and target.has("poor_share"):
        p.error(
            "target.poor_share",
            "conflict",
            "pilih poverty_line atau poor_share / give poverty_line (an amount) or poor_share, "
            "not both",
        )
    poverty_line = target.number("poverty_line", None, lo=0, hi=None, inclusive=False)
    poor_share = target.number("poor_share", None, lo=0, hi=1, inclusive=False)
    if outcome_kind != "continuous":
        for key in ("poverty_line", "poor_share"):
            if target.has(key):
                p.error(
                    f"target.{key}",
                    "kind",
                    f"`{key}` perlu konsumsi; untuk kelas pakai survey.poor_classes / needs a "
                    "consumption outcome; with classes use survey.poor_classes",
                )
        poverty_line = poor_share = None
    elif poverty_line is None and poor_share is None:
        poor_share = DEFAULT_SHARE
    quota = target.number("quota", None, lo=0, hi=1, inclusive=False)
    coverage = model.number("coverage", None, lo=0, hi=1, inclusive=False)
    if quota is not None and coverage is not None and abs(quota - coverage) > 1e-12:
        p.error(
            "model.coverage",
            "conflict",
            f"model.coverage ({coverage:g}) berbeda dari target.quota ({quota:g}) / differs "
            "from target.quota: coverage is the old name of quota; keep one",
        )
    if quota is None:
        quota = coverage if coverage is not None else (poor_share or DEFAULT_SHARE)
    quota_column = target.text("quota_column")
    quota_file = target.text("quota_file")
    default_scope = "area" if (quota_area or area) else "national"
    quota_scope = target.choice("quota_scope", QUOTA_SCOPES, default_scope)
    if quota_scope == "area" and not (quota_area or area):
        p.error(
            "target.quota_scope",
            "required",
            "kuota per wilayah perlu survey.quota_area atau survey.area / a quota within areas "
            "needs survey.quota_area or survey.area",
        )
    for key, column in (("quota_column", quota_column), ("quota_file", quota_file)):
        if column and quota_scope != "area":
            p.error(
                f"target.{key}",
                "scope",
                f"`{key}` memberi kuota per wilayah / gives quotas per area: set quota_scope = "
                '"area" and survey.quota_area',
            )
    if quota_column and quota_file:
        p.error(
            "target.quota_file",
            "conflict",
            "pilih quota_column atau quota_file / give quota_column or quota_file, not both",
        )
    if quota_file:
        if not allow_files:
            p.error(
                "target.quota_file",
                "not_allowed",
                "quota_file hanya dari baris perintah; di formulir web unggah berkas kuota / "
                "quota_file is for the command line only; on the web form upload the quota file",
            )
            quota_file = ""
        else:
            path = Path(quota_file)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            if not path.is_file():
                p.error(
                    "target.quota_file", "not_found", f"berkas tidak ada / file not found: {path}"
                )
            quota_file = str(path)

    # -- model
    legacy = model.choice("method", METHODS, "") if model.has("method") else ""
    if model.has("method") and model.has("methods"):
        p.error(
            "model.method",
            "conflict",
            "pilih `method` (satu) atau `methods` (beberapa) / give method (one) or methods "
            "(several), not both",
        )
    if model.has("methods"):
        methods = model.names("methods")
        bad = [m for m in methods if m not in METHODS]
        for m in bad:
            p.error(
                "model.methods",
                "choice",
                f"metode tidak dikenal / unknown method `{m}`; one of {', '.join(METHODS)}"
                f"{_suggest(m, METHODS)}",
            )
        dup = sorted({m for m in methods if methods.count(m) > 1})
        if dup:
            p.error("model.methods", "duplicate", f"ganda / duplicated: {', '.join(dup)}")
        if not methods and isinstance(model.table["methods"], list):
            p.error("model.methods", "required", "minimal satu metode / at least one method")
        methods = [m for m in dict.fromkeys(methods) if m in METHODS]
    elif legacy:
        methods = [legacy]
    elif model.has("method"):
        methods = []  # an unknown legacy method: reported above
    else:
        methods = [DEFAULT_METHOD[outcome_kind]]
    fits = METHODS_FOR[outcome_kind]
    for m in methods:
        if m not in fits:
            p.error(
                "model.methods" if model.has("methods") else "model.method",
                "outcome",
                f"`{m}` tidak cocok untuk hasil {outcome_kind} / does not fit a {outcome_kind} "
                f"outcome; use one of {', '.join(fits)}",
            )
    default_select = legacy or (methods[0] if len(methods) == 1 else "auto")
    select = model.text("select", default_select)
    if model.has("select") and select != "auto" and select not in methods:
        p.error(
            "model.select",
            "choice",
            f"`select` harus auto atau salah satu dari methods / must be auto or one of the "
            f"methods ({', '.join(methods)}), not {select!r}",
        )
    if select == "auto" and len(methods) == 1:
        select = methods[0]
    method = select if select != "auto" else (methods[0] if methods else "ols")
    quantile = model.number("quantile", 0.5, lo=0, hi=1, inclusive=False) or 0.5
    area_effects = "none"
    if model.has("area_effects"):
        value = model.table["area_effects"]
        if isinstance(value, bool):
            area_effects = "fixed" if value else "none"
        elif isinstance(value, str):
            area_effects = model.choice("area_effects", AREA_EFFECTS, "none")
        else:
            model._wrong("area_effects", 'one of "none", "fixed", "random" (or true/false)')
    if area_effects != "none" and not area:
        p.error(
            "model.area_effects",
            "required",
            "efek wilayah perlu survey.area / area effects need survey.area",
        )
    folds = model.integer("folds", 5, 2, 20)
    seed = model.integer("seed", 20261128, 0)
    min_rows = model.integer("min_rows", 200, MIN_ROWS)

    # -- proxies and features
    proxies: list[Proxy] = []
    raw_proxies = raw.get("proxies") or {}
    if not isinstance(raw_proxies, dict):
        p.error(
            "proxies",
            "type",
            f"[proxies] harus tabel / must be a table, not {_type_name(raw_proxies)}",
        )
        raw_proxies = {}
    for name, item in raw_proxies.items():
        x = _proxy(p, name, item)
        if x is not None:
            proxies.append(x)
    if not raw_proxies:
        p.error("proxies", "required", "minimal satu proksi / at least one proxy")
    squares, interactions, splines = _features(p, features, proxies)
    missing_indicators = features.boolean("missing_indicators", False)

    # -- filters
    keep = filters.text("keep")
    if keep:
        try:
            filter_parse(keep)
        except ValidationFailed as exc:
            p.items.extend(exc.problems)
    elif filters.has("keep") and isinstance(filters.table["keep"], str):
        p.error("filters.keep", "required", "ekspresi kosong / empty expression")

    p.raise_if_errors()
    return Spec(
        consumption=consumption,
        proxies=proxies,
        outcome=outcome,
        outcome_kind=outcome_kind,
        classes=classes,
        poor_classes=poor_classes,
        weight=weight,
        area=area,
        area_level=area_level,
        cv_group=cv_group,
        quota_area=quota_area,
        household_size=household_size,
        poverty_line=poverty_line,
        poor_share=poor_share,
        quota=quota,
        quota_scope=quota_scope,
        quota_column=quota_column,
        quota_file=quota_file,
        methods=methods,
        select=select,
        method=method,
        quantile=quantile,
        area_effects=AreaEffects(area_effects),
        folds=folds,
        seed=seed,
        coverage=quota,
        min_rows=min_rows,
        missing_indicators=missing_indicators,
        squares=squares,
        interactions=interactions,
        splines=splines,
        filters=keep,
    )


def spec_parse(
    text: str,
    *,
    overrides: dict[str, Any] | None = None,
    name: str = "spec",
    allow_files: bool = False,
    base_dir: Path | None = None,
) -> Spec:
    """A spec from TOML text. As uploaded through the web form or the API (the default), it may
    not name a file on the server (`target.quota_file`)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        p = Problems()
        p.error(name, "toml", f"TOML tidak sah / invalid TOML: {exc}")
        raise ValidationFailed(p.items) from None
    return spec_from_dict(raw, overrides=overrides, allow_files=allow_files, base_dir=base_dir)


def spec_load(path: Path, *, overrides: dict[str, Any] | None = None) -> tuple[Spec, str]:
    """The spec in `path` (the command line) with overrides; also returns the file's text.
    A relative `target.quota_file` is read from the spec's folder."""
    text = path.read_text(encoding="utf-8-sig")
    spec = spec_parse(
        text, overrides=overrides, name=path.name, allow_files=True, base_dir=path.parent
    )
    return spec, text
