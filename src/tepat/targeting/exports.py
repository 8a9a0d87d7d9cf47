"""Files out of targeting, for audit and independent evaluation (CSV or Parquet).

- Out-of-fold predictions of a model (`PmtModel.predictions`): per usable survey row, its 1-based
  data row in the survey file, its fold, the outcome, whether it is poor, the score predicted by a
  model that never saw that row, and its weight. With them anyone can recompute the model card's
  errors at any quota without Tepat.
- Scores of a scoring run: per registry household, its public id, village code, score and both
  desil; only households in the caller's regions (tepat.accounts.scoping), streamed a chunk at a
  time so millions of rows never sit in memory; every export audited (action, count, scope).

Data minimisation (UU 27/2022 Art. 16(2)): a score export carries what an evaluation needs and
nothing that names a person. No names, NIK or No. KK: the household's random public id is enough
to join a file back to the registry inside Tepat (where the reader's scope and audit apply), and
outside Tepat it identifies nobody. The village code is kept because regional desil and
per-village quotas are computed from it. Survey predictions carry the survey's row numbers, not
its identifiers or raw proxies.

Who may export:
- predictions: those who calibrate models (admins, supervisors) and auditors (read only). The rows
  come from survey microdata of the whole country, which regional operators do not need.
- scores: the roles that may count rules over the registry (`services.can_check_rules`: admins,
  supervisors, operators, auditors), each limited to their regions; field agents may not.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from tepat.accounts.models import Role
from tepat.accounts.scoping import region_q
from tepat.core import csvsafe
from tepat.core.audit import audit_read, audit_record
from tepat.core.errors import NotFound, PermissionDenied, TepatError
from tepat.targeting.models import HouseholdScore, PmtModel, ScoringRun

if TYPE_CHECKING:
    from tepat.accounts.models import User


FORMATS = {".csv": "csv", ".parquet": "parquet"}
CHUNK = 100_000
PREDICTION_COLUMNS = ("row", "fold", "outcome", "poor", "score", "weight")
SCORE_COLUMNS = (
    "household_public_id", "village_code", "score", "desil_national", "desil_regional",
)  # fmt: skip
REGION_LENGTHS = (2, 4, 6, 10)


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def can_export_predictions(user: Any) -> bool:
    """Admins, supervisors and auditors (None: the command line, run on the server)."""
    if user is None:
        return True
    return _active(user) and bool(
        user.is_superuser or user.role in {Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR}
    )


def can_export_scores(user: Any) -> bool:
    """The roles that may count rules over the registry, within their regions."""
    from tepat.targeting.services import can_check_rules

    return user is None or can_check_rules(user)


def export_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise TepatError(
            f"berkas keluaran harus .csv atau .parquet / the output file must end in .csv or "
            f".parquet: {path.name}",
            field="out",
            code="format",
        )
    return fmt


def _label(user: Any) -> str:
    return getattr(user, "username", "") or "system"


# --- out-of-fold predictions ------------------------------------------------------------------


def predictions_columns(model: PmtModel) -> dict[str, list[Any]]:
    """The model's out-of-fold predictions as equal-length columns; NotFound for a model saved
    without them (calibrated before they were kept)."""
    data = model.predictions or {}
    cols = {c: list(data[c]) for c in PREDICTION_COLUMNS if c in data}
    for c in ("row", "fold", "poor"):  # whole numbers (poor: 0/1), whatever JSON made of them
        if c in cols:
            cols[c] = [None if v is None else int(v) for v in cols[c]]
    if not cols.get("row"):
        raise NotFound(
            f"model PMT v{model.version} tidak menyimpan prediksi out-of-fold (dikalibrasi "
            f"sebelum fitur ini); kalibrasi ulang / PMT v{model.version} has no out-of-fold "
            "predictions saved (calibrated before they were kept): recalibrate it"
        )
    lengths = {c: len(v) for c, v in cols.items()}
    if len(set(lengths.values())) > 1:
        raise TepatError(
            f"prediksi model v{model.version} rusak / v{model.version}'s predictions have "
            f"columns of different lengths: {lengths}",
            code="predictions_corrupt",
            field="predictions",
        )
    return cols


def _require_predictions(user: Any) -> None:
    if not can_export_predictions(user):
        raise PermissionDenied(
            "Hanya admin, supervisor dan auditor yang boleh mengunduh prediksi model / only "
            "admins, supervisors and auditors may export a model's predictions"
        )


def _audit_predictions(user: Any, model: PmtModel, count: int, how: str, request: Any) -> None:
    audit_record(
        actor=user, action="targeting.export_predictions", target_type="pmt_model",
        target_id=str(model.version), request=request,
        detail={"rows": count, "format": how, "by": _label(user)},
    )  # fmt: skip


def predictions_page(
    *, acting_user: User, model: PmtModel, limit: int, offset: int, request: Any = None
) -> tuple[int, list[dict[str, Any]]]:
    """(rows in all, one page of rows as dicts); audited."""
    _require_predictions(acting_user)
    cols = predictions_columns(model)
    n = len(cols["row"])
    rows = [{c: cols[c][i] for c in cols} for i in range(min(offset, n), min(offset + limit, n))]
    _audit_predictions(acting_user, model, len(rows), "api", request)
    return n, rows


def predictions_csv(*, acting_user: User, model: PmtModel, request: Any = None) -> Iterator[str]:
    """The predictions as CSV text, a chunk at a time; audited before the first byte."""
    _require_predictions(acting_user)
    cols = predictions_columns(model)
    _audit_predictions(acting_user, model, len(cols["row"]), "csv", request)
    return _csv_chunks(list(cols), _column_rows(cols))


def _column_rows(cols: dict[str, list[Any]]) -> Iterator[list[tuple[Any, ...]]]:
    names = list(cols)
    n = len(cols["row"])
    for start in range(0, n, CHUNK):
        yield list(zip(*(cols[c][start : start + CHUNK] for c in names), strict=True))


def predictions_export(
    *, acting_user: User, model: PmtModel, out: Path, request: Any = None
) -> int:
    """Write the predictions to `out` (.csv or .parquet); returns the row count; audited."""
    _require_predictions(acting_user)
    fmt = export_format(out)
    cols = predictions_columns(model)
    _write(out, fmt, list(cols), _column_rows(cols), _prediction_schema(list(cols)))
    _audit_predictions(acting_user, model, len(cols["row"]), fmt, request)
    return len(cols["row"])


def _prediction_schema(names: list[str]) -> Any:
    import pyarrow as pa

    types = {"row": pa.int64(), "fold": pa.int64(), "poor": pa.int8()}
    return pa.schema([(c, types.get(c, pa.float64())) for c in names])


# --- registry scores --------------------------------------------------------------------------


def scoring_run_get(public_id: str) -> ScoringRun:
    run = (
        ScoringRun.objects.select_related("model")
        .filter(public_id=public_id, status=ScoringRun.Status.DONE)
        .first()
    )
    if run is None:
        raise NotFound(f"skoring {public_id} tidak ada / no finished scoring run {public_id}")
    return run


@dataclass(frozen=True)
class ScoreScope:
    """Which households of a run an export holds: the caller's regions, narrowed to `region`."""

    codes: list[str]  # the caller's region codes, or ["nasional"]
    region: str  # the region asked for ("" = all the caller may see)

    @property
    def audit_region(self) -> str:
        if self.region:
            return self.region
        return self.codes[0] if len(self.codes) == 1 and self.codes[0].isdigit() else ""

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.codes, "region": self.region}


def scores_scope(*, user: Any, region: str = "") -> tuple[ScoreScope, Q]:
    """The caller's scope and the filter on HouseholdScore it means. A region code the caller
    cannot see is NotFound (no probing of other regions), a malformed one a field error."""
    if not can_export_scores(user):
        raise PermissionDenied(
            "Peran Anda tidak boleh mengunduh skor rumah tangga / your role may not export "
            "household scores"
        )
    region = (region or "").strip()
    if region and (not region.isdigit() or len(region) not in REGION_LENGTHS):
        raise TepatError(
            f"kode wilayah harus {REGION_LENGTHS} digit / a region code has 2, 4, 6 or 10 "
            f"digits: {region!r}",
            field="region",
            code="region",
        )
    field = "household__village__code"
    national = user is None or not region_q(user, field)
    codes = ["nasional"] if national else sorted(getattr(user, "region_codes", []) or [])
    q = Q() if user is None else region_q(user, field)
    if region:
        if not national and not any(region.startswith(c) or c.startswith(region) for c in codes):
            raise NotFound()
        q &= Q(**{f"{field}__startswith": region})
    return ScoreScope(codes, region), q


def scores_queryset(*, user: Any, run: ScoringRun, region: str = "") -> tuple[ScoreScope, Any]:
    scope, q = scores_scope(user=user, region=region)
    qs = HouseholdScore.objects.filter(run=run).filter(q)
    return scope, qs


def _score_rows(
    qs: QuerySet[HouseholdScore], chunk: int = CHUNK
) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in id order, `chunk` at a time by keyset (one indexed query each, no OFFSET)."""
    fields = (
        "id", "household__public_id", "household__village_id", "score", "desil_national",
        "desil_regional",
    )  # fmt: skip
    last = 0
    while True:
        rows = list(qs.filter(id__gt=last).order_by("id").values_list(*fields)[:chunk])
        if not rows:
            return
        last = rows[-1][0]
        yield [r[1:] for r in rows]


def _audit_scores(
    user: Any, run: ScoringRun, scope: ScoreScope, count: int, how: str, request: Any
) -> None:
    audit_read(
        actor=user, what="targeting.export_scores", count=count, region_code=scope.audit_region,
        request=request, target_type="scoring_run", target_id=run.public_id,
        detail={**scope.as_dict(), "format": how, "model_version": run.model.version},
    )  # fmt: skip


def scores_page(
    *,
    acting_user: User,
    run: ScoringRun,
    limit: int,
    offset: int,
    region: str = "",
    request: Any = None,
) -> tuple[ScoreScope, int, list[dict[str, Any]]]:
    """(scope, households in scope, one page in household order); audited."""
    scope, qs = scores_queryset(user=acting_user, run=run, region=region)
    total = qs.count()
    page = qs.order_by("id").values_list(
        "household__public_id", "household__village_id", "score", "desil_national",
        "desil_regional",
    )[offset : offset + limit]  # fmt: skip
    rows = [dict(zip(SCORE_COLUMNS, r, strict=True)) for r in page]
    _audit_scores(acting_user, run, scope, len(rows), "api", request)
    return scope, total, rows


def scores_csv(
    *, acting_user: User, run: ScoringRun, region: str = "", request: Any = None
) -> tuple[int, Iterator[str]]:
    """(households, the CSV text a chunk at a time): counted and audited before the first byte."""
    scope, qs = scores_queryset(user=acting_user, run=run, region=region)
    total = qs.count()
    _audit_scores(acting_user, run, scope, total, "csv", request)
    return total, _csv_chunks(list(SCORE_COLUMNS), _score_rows(qs))


def scores_export(
    *, acting_user: User, run: ScoringRun, out: Path, region: str = "", chunk: int = CHUNK
) -> tuple[ScoreScope, int]:
    """Write the run's scores in the caller's scope to `out` (.csv or .parquet), streamed a chunk
    at a time; (scope, households written); audited with the count and the scope."""
    fmt = export_format(out)
    scope, qs = scores_queryset(user=acting_user, run=run, region=region)
    count = _write(out, fmt, list(SCORE_COLUMNS), _score_rows(qs, chunk), _score_schema())
    _audit_scores(acting_user, run, scope, count, fmt, None)
    return scope, count


def _score_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("household_public_id", pa.string()),
            ("village_code", pa.string()),
            ("score", pa.float64()),
            ("desil_national", pa.int8()),
            ("desil_regional", pa.int8()),
        ]
    )


# --- writers ----------------------------------------------------------------------------------


def _csv_text(rows: list[Any]) -> str:
    buf = io.StringIO()
    csvsafe.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def _csv_chunks(header: list[str], chunks: Iterator[list[tuple[Any, ...]]]) -> Iterator[str]:
    yield _csv_text([header])
    for rows in chunks:
        yield _csv_text(rows)


def _write(
    out: Path, fmt: str, header: list[str], chunks: Iterator[list[tuple[Any, ...]]], schema: Any
) -> int:
    """Write to a temporary file beside `out`, renamed into place at the end: a failure leaves
    no half-written export behind."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.part")
    count = 0
    try:
        if fmt == "csv":
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                fh.write(_csv_text([header]))
                for rows in chunks:
                    fh.write(_csv_text(rows))
                    count += len(rows)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            with pq.ParquetWriter(tmp, schema) as writer:
                for rows in chunks:
                    columns = list(zip(*rows, strict=True))
                    writer.write_table(pa.Table.from_arrays(
                        [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)],
                        schema=schema,
                    ))  # fmt: skip
                    count += len(rows)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return count
