"""Eligibility rules as data: `desil <= 4 and children_in_school > 0 and not flags.civil_servant`.

Parsed with Python's `ast` into a whitelist of node types and evaluated by walking the tree over
numpy columns (never `eval`): boolean `and`/`or`/`not`, comparisons (also chained, and `in` /
`not in` a list of constants), names of household attributes, `flags.<name>`, and constants.
Errors name the position (column) and suggest the nearest known name.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tepat.core.errors import Problems, ValidationFailed
from tepat.targeting.features import CATEGORICAL, FLAG_NAMES, NUMERIC

# Attributes a rule may name, with their kind.
RULE_NUMERIC = (*NUMERIC, "desil", "desil_regional", "score")
RULE_CATEGORICAL = (*CATEGORICAL, "province", "regency", "district", "village")
KNOWN = {**dict.fromkeys(RULE_NUMERIC, "numeric"), **dict.fromkeys(RULE_CATEGORICAL, "text")}
MAX_LENGTH = 1000

_CMP = {
    ast.Lt: ("<", np.less), ast.LtE: ("<=", np.less_equal), ast.Gt: (">", np.greater),
    ast.GtE: (">=", np.greater_equal), ast.Eq: ("==", np.equal), ast.NotEq: ("!=", np.not_equal),
}  # fmt: skip


def _problem(message: str, node: ast.AST | None = None, col: int | None = None) -> ValidationFailed:
    where = col if col is not None else (getattr(node, "col_offset", 0) + 1)
    p = Problems()
    p.error("expression", "rule", f"kolom {where}: {message}")
    return ValidationFailed(p.items)


@dataclass(frozen=True)
class Rule:
    expression: str
    tree: ast.expr

    def names(self) -> set[str]:
        out: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute):
                out.add(f"flags.{node.attr}")
            elif isinstance(node, ast.Name) and node.id != "flags":
                out.add(node.id)
        return out


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" — maksud Anda / did you mean '{close[0]}'?" if close else ""


def _kind(node: ast.expr) -> str:
    """numeric | text | bool | list, for type checking comparisons."""
    if isinstance(node, ast.Name):
        return KNOWN[node.id]
    if isinstance(node, ast.Attribute):
        return "bool"
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            return "bool"
        return "text" if isinstance(node.value, str) else "numeric"
    if isinstance(node, ast.UnaryOp):
        return "bool" if isinstance(node.op, ast.Not) else "numeric"
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return "list"
    return "bool"


def _check(node: ast.expr) -> None:
    if isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v)
            if _kind(v) not in {"bool"}:
                raise _problem("operand `and`/`or` harus kondisi / must be a condition", v)
        return
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            _check(node.operand)
            if _kind(node.operand) != "bool":
                raise _problem(
                    "`not` harus diikuti kondisi / must be followed by a condition", node
                )
            return
        operand = node.operand
        if (
            isinstance(node.op, ast.USub)
            and isinstance(operand, ast.Constant)
            and isinstance(operand.value, int | float)
            and not isinstance(operand.value, bool)
        ):
            return
        raise _problem("operator tidak diizinkan / operator not allowed", node)
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        for o in operands:
            if isinstance(o, ast.List | ast.Tuple | ast.Set):
                for e in o.elts:
                    if not isinstance(e, ast.Constant) or isinstance(e.value, bool):
                        raise _problem(
                            "daftar hanya berisi angka/teks / lists hold only constants", e
                        )
            else:
                _check(o)
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            lk, rk = _kind(left), _kind(right)
            if isinstance(op, ast.In | ast.NotIn):
                if rk != "list" or lk not in {"numeric", "text"}:
                    raise _problem(
                        "`in` perlu atribut di kiri dan daftar di kanan / `in` needs an attribute and a list, e.g. toilet in ['none', 'public']",
                        node,
                    )
                continue
            if type(op) not in _CMP:
                raise _problem("perbandingan tidak diizinkan / comparison not allowed", node)
            if "list" in (lk, rk):
                raise _problem("daftar hanya setelah `in` / a list only after `in`", node)
            if lk != rk and not (
                {lk, rk} == {"numeric", "bool"} and isinstance(op, ast.Eq | ast.NotEq)
            ):
                raise _problem(
                    f"tidak dapat membandingkan {lk} dengan {rk} / cannot compare {lk} with {rk}",
                    node,
                )
            if lk == "text" and type(op) not in (ast.Eq, ast.NotEq):
                raise _problem(
                    "teks hanya dengan == atau != / text compares only with == or !=", node
                )
        return
    if isinstance(node, ast.Name):
        if node.id == "flags":
            raise _problem("tulis flags.<nama> / write flags.<name>, e.g. flags.deceased", node)
        if node.id not in KNOWN:
            raise _problem(
                f"nama tidak dikenal / unknown name '{node.id}'{_suggest(node.id, list(KNOWN))}",
                node,
            )
        return
    if isinstance(node, ast.Attribute):
        if not isinstance(node.value, ast.Name) or node.value.id != "flags":
            raise _problem("hanya flags.<nama> / only flags.<name> may use a dot", node)
        if node.attr not in FLAG_NAMES:
            raise _problem(
                f"flag tidak dikenal / unknown flag 'flags.{node.attr}'{_suggest(node.attr, list(FLAG_NAMES))}; known: {', '.join(FLAG_NAMES)}",
                node,
            )
        return
    if isinstance(node, ast.Constant):
        if node.value is None or isinstance(node.value, bytes | complex):
            raise _problem("nilai tidak diizinkan / constant not allowed", node)
        return
    raise _problem(f"bentuk tidak diizinkan / not allowed here: {type(node).__name__}", node)


def rule_parse(expression: str) -> Rule:
    """Parse and validate; raises ValidationFailed naming the column and the reason."""
    text = (expression or "").strip()
    if not text:
        raise _problem("aturan kosong / empty rule", col=1)
    if len(text) > MAX_LENGTH:
        raise _problem(
            f"aturan terlalu panjang / rule longer than {MAX_LENGTH} characters", col=MAX_LENGTH
        )
    if "\n" in text:
        text = " ".join(text.split())
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise _problem(f"sintaks salah / syntax error: {exc.msg}", col=exc.offset or 1) from None
    body = tree.body
    _check(body)
    if _kind(body) != "bool" or (
        isinstance(body, ast.Constant) and not isinstance(body.value, bool)
    ):
        raise _problem(
            "aturan harus berupa kondisi / the rule must be a condition, e.g. desil <= 4", body
        )
    return Rule(text, body)


Columns = Mapping[str, npt.NDArray[Any]]


def _value(node: ast.expr, cols: Columns, n: int) -> Any:
    if isinstance(node, ast.Name):
        return cols[node.id]
    if isinstance(node, ast.Attribute):
        return cols[f"flags.{node.attr}"]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_value(node.operand, cols, n)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [e.value for e in node.elts if isinstance(e, ast.Constant)]
    return _eval(node, cols, n)


def _eval(node: ast.expr, cols: Columns, n: int) -> npt.NDArray[np.bool_]:
    if isinstance(node, ast.BoolOp):
        parts = [_eval(v, cols, n) for v in node.values]
        fn = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = parts[0]
        for part in parts[1:]:
            out = fn(out, part)
        return np.asarray(out, dtype=bool)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_eval(node.operand, cols, n)
    if isinstance(node, ast.Compare):
        operands = [node.left, *node.comparators]
        out = np.ones(n, dtype=bool)
        for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
            a, b = _value(left, cols, n), _value(right, cols, n)
            if isinstance(op, ast.In | ast.NotIn):
                hit = np.isin(np.asarray(a), b) if n else np.zeros(0, bool)
                out &= hit if isinstance(op, ast.In) else ~hit
            else:
                with np.errstate(invalid="ignore"):
                    out &= np.broadcast_to(_CMP[type(op)][1](a, b), (n,))
        return out
    v = _value(node, cols, n)
    return np.broadcast_to(np.asarray(v, dtype=bool), (n,)).copy()


def rule_evaluate(rule: Rule, cols: Columns, n: int) -> npt.NDArray[np.bool_]:
    """Which rows satisfy the rule. Missing numeric values (NaN) fail every comparison."""
    return _eval(rule.tree, cols, n)


# --- explanation ------------------------------------------------------------------------------


def _show(node: ast.expr, row: Columns) -> str:
    if isinstance(node, ast.Constant):
        return repr(node.value) if isinstance(node.value, str) else str(node.value)
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return "[" + ", ".join(_show(e, row) for e in node.elts) + "]"
    if isinstance(node, ast.Name | ast.Attribute):
        v = _value(node, row, 1)[0]
        if isinstance(v, np.floating) and float(v).is_integer():
            v = int(v)
        if isinstance(v, np.bool_):
            v = bool(v)
        if isinstance(v, np.str_):
            v = str(v)
        return f"{ast.unparse(node)} = {v if not isinstance(v, str) else repr(v)}"
    return ast.unparse(node)


def _reasons(node: ast.expr, row: Columns) -> tuple[bool, list[tuple[str, bool]]]:
    """(truth, the conditions that made it so, each with its own truth) for one household."""
    if isinstance(node, ast.BoolOp):
        results = [_reasons(v, row) for v in node.values]
        is_and = isinstance(node.op, ast.And)
        truth = all(r[0] for r in results) if is_and else any(r[0] for r in results)
        # An `and` is true because of all its parts and false because of the failing ones; an
        # `or` the other way round.
        decisive = [r for r in results if r[0] == truth] if truth != is_and else results
        return truth, [s for r in decisive for s in r[1]]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        truth, why = _reasons(node.operand, row)
        return not truth, [(f"not ({text})", not t) for text, t in why]
    truth = bool(_eval(node, row, 1)[0])
    if isinstance(node, ast.Compare):
        text = " ".join(
            [_show(node.left, row)]
            + [
                f"{_op(op)} {_show(c, row)}"
                for op, c in zip(node.ops, node.comparators, strict=True)
            ]
        )
    else:
        text = _show(node, row)
    return truth, [(text, truth)]


def _op(op: ast.cmpop) -> str:
    if isinstance(op, ast.In):
        return "in"
    if isinstance(op, ast.NotIn):
        return "not in"
    return _CMP[type(op)][0]


@dataclass
class Explanation:
    eligible: bool
    reasons: list[str]

    @property
    def sentence(self) -> str:
        head = (
            "layak karena / eligible because"
            if self.eligible
            else "tidak layak karena / not eligible because"
        )
        return f"{head}: " + "; ".join(self.reasons)


def rule_explain(rule: Rule, row: Columns) -> Explanation:
    """Why one household (columns of length 1) is or is not eligible."""
    truth, why = _reasons(rule.tree, row)
    return Explanation(truth, [f"{text} {'✓' if t else '✗'}" for text, t in why])
