"""Record linkage with Splink 5: one table of person records from every source (and the registry),
deduplicated within and linked across sources in one pass.

Independent of Django: it takes and returns pandas frames, so the benchmark and the Spark path use
it as it is. Record columns: unique_id, source, nik, kk, full_name, sex, birth_date (ISO text),
village_code, address.

One module per step of a run: names and preparation (the compared forms of a record),
comparisons and blocking (the model's settings), training, prediction (scoring, and the rules and
clerical decisions that overrule scores), clustering, and backends (DuckDB or Spark behind one
interface); pipeline puts them together. Callers use the names below.
"""

from tepat.integration.linkage.backends import ENGINES, db_api
from tepat.integration.linkage.blocking import blocking_rules
from tepat.integration.linkage.clustering import (
    UNIQUE_NAME_PROBABILITY,
    connected_components,
    unique_name_edges,
)
from tepat.integration.linkage.comparisons import within_edits
from tepat.integration.linkage.names import FIRST_WORD_VARIANTS, NAME_VARIANTS, normalize_name
from tepat.integration.linkage.pipeline import (
    IncrementalOutput,
    LinkOutput,
    link,
    link_new_records,
)
from tepat.integration.linkage.prediction import apply_decisions, decisions_in, guard_name_only
from tepat.integration.linkage.preparation import RECORD_COLUMNS, prepare
from tepat.integration.linkage.training import U_SAMPLE_PAIRS, floor_m

__all__ = [
    "ENGINES",
    "FIRST_WORD_VARIANTS",
    "NAME_VARIANTS",
    "RECORD_COLUMNS",
    "UNIQUE_NAME_PROBABILITY",
    "U_SAMPLE_PAIRS",
    "IncrementalOutput",
    "LinkOutput",
    "apply_decisions",
    "blocking_rules",
    "connected_components",
    "db_api",
    "decisions_in",
    "floor_m",
    "guard_name_only",
    "link",
    "link_new_records",
    "normalize_name",
    "prepare",
    "unique_name_edges",
    "within_edits",
]
