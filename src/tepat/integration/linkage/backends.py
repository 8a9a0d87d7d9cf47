"""Where Splink runs its SQL: DuckDB in the process (the default) or Spark (`tepat link --engine
spark`, scale-out). The pipeline sees one small interface, chosen once from the engine name."""

from __future__ import annotations

import copy
import shutil
import tempfile
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from tepat.integration import conf
from tepat.integration.linkage.comparisons import settings_creator

# The engine names `tepat link --engine` accepts; the first is the default.
ENGINES = ("duckdb", "spark")


class Backend(Protocol):
    """A Splink backend: its database API (which registers and reads frames), the settings a new
    model trains with, and a saved model in its SQL dialect."""

    name: str

    def database_api(self) -> Any:
        """A fresh Splink database API (DuckDBAPI, SparkAPI) to register the records in."""
        ...

    def training_settings(self) -> Any:
        """The settings a model is trained from; ValueError where this backend cannot train."""
        ...

    def scoring_model(self, model: dict[str, Any]) -> dict[str, Any]:
        """A saved model (trained on DuckDB, so in DuckDB's SQL) in this backend's dialect."""
        ...


class DuckDBBackend:
    name = "duckdb"

    def database_api(self) -> Any:
        import duckdb
        from splink import DuckDBAPI

        # DuckDB may take 80% of the machine's memory by default, on top of the pipeline's own
        # records; a bound makes it spill its joins to a temporary directory instead.
        spill = tempfile.mkdtemp(prefix="tepat-duckdb-")
        con = duckdb.connect()
        con.execute(f"SET memory_limit = '{conf.duckdb_memory_limit()}'")
        con.execute(f"SET temp_directory = '{spill}'")
        api = DuckDBAPI(connection=con)
        weakref.finalize(api, shutil.rmtree, spill, True)
        return api

    def training_settings(self) -> Any:
        return settings_creator()

    def scoring_model(self, model: dict[str, Any]) -> dict[str, Any]:
        return model


class SparkBackend:
    name = "spark"

    def database_api(self) -> Any:
        from pyspark.sql import SparkSession
        from splink import SparkAPI
        from splink.backends.spark import similarity_jar_location

        spark = (
            SparkSession.builder.master("local[2]")
            .config("spark.jars", similarity_jar_location())
            .config("spark.driver.memory", "4g")
            .appName("tepat-link")
            .config("spark.sql.shuffle.partitions", "8")
            .config("spark.ui.enabled", "false")
            .getOrCreate()
        )
        spark.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="tepat-spark-"))
        return SparkAPI(spark_session=spark)  # type: ignore[no-untyped-call]

    def training_settings(self) -> Any:
        raise ValueError("the Spark engine scores with a saved model: run a DuckDB link first")

    def scoring_model(self, model: dict[str, Any]) -> dict[str, Any]:
        """The saved model's SQL read as DuckDB's and written as Spark's by SQLGlot (identifiers
        in backticks). Two functions of the comparisons have no Spark namesake: Jaro-Winkler is
        the one of Splink's jar (Splink's Spark dialect names it), and `hamming` does not exist,
        so the bound before a one-edit Damerau-Levenshtein (comparisons.within_edits) becomes
        Levenshtein <= 2, as valid a bound. Blocking rules keep Spark's own
        jaro_winkler_similarity."""
        out = copy.deepcopy(model)
        for comparison in out.get("comparisons", []):
            for level in comparison.get("comparison_levels", []):
                sql = level.get("sql_condition")
                if sql is not None and sql != "ELSE":
                    level["sql_condition"] = _spark_sql(sql, comparison=True)
        for rule in out.get("blocking_rules_to_generate_predictions", []):
            if isinstance(rule, dict) and "blocking_rule" in rule:
                rule["blocking_rule"] = _spark_sql(rule["blocking_rule"], comparison=False)
                rule["sql_dialect"] = self.name
        out["sql_dialect"] = self.name
        return out


def _spark_sql(sql: str, *, comparison: bool) -> str:
    """One SQL expression of a saved model (DuckDB) in Spark's dialect; see scoring_model."""
    import sqlglot
    from splink import SparkAPI
    from sqlglot import exp

    # Spark has a jaro_winkler_similarity of its own, which the blocking rules have always used.
    jaro_winkler = (
        SparkAPI.sql_dialect.jaro_winkler_function_name if comparison else "jaro_winkler_similarity"
    )

    def spark_functions(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.JarowinklerSimilarity):
            return exp.Anonymous(this=jaro_winkler, expressions=[node.this, node.expression])
        if isinstance(node, exp.Anonymous) and node.name.lower() == "hamming":
            return exp.Levenshtein(this=node.expressions[0], expression=node.expressions[1])
        return node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(spark_functions)
    return tree.sql(dialect="spark")


_BACKENDS: dict[str, Callable[[], Backend]] = {
    "duckdb": DuckDBBackend,
    "spark": SparkBackend,
}


def backend_for(engine: str) -> Backend:
    """The backend of an engine name (one of ENGINES)."""
    try:
        return _BACKENDS[engine]()
    except KeyError:
        raise ValueError(
            f"unknown linkage engine {engine!r}: one of {', '.join(ENGINES)}"
        ) from None


def db_api(engine: str = "duckdb") -> Any:
    """A fresh Splink database API of the engine's backend."""
    return backend_for(engine).database_api()
