from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from tepat.core.errors import ValidationFailed
from tepat.integration.importing import import_file
from tepat.integration.models import Source
from tepat.integration.services import source_save


def test_an_operator_adds_a_new_source_without_code_changes(sources, tmp_path, capsys):
    config = {
        "key": "kemensos_pkh",
        "name": "Data PKH",
        "format": "csv",
        "record_id": "ID",
        "columns": {"nik": "NIK", "full_name": "NAMA", "village_code": "DESA"},
        "required": ["full_name"],
        "authoritative_for": [],
        "precedence": 20,
    }
    path = tmp_path / "pkh.json"
    path.write_text(json.dumps(config))
    call_command("integration", "source-add", str(path))
    assert Source.objects.get(key="kemensos_pkh").precedence == 20
    run = import_file(
        acting_user=None,
        source_key="kemensos_pkh",
        file_name="pkh.csv",
        data=b"ID;NIK;NAMA;DESA\n1;3273011205800001;ASEP;3273011001\n",
    ).run
    assert run.accepted_rows == 1
    call_command("integration", "sources")
    assert "kemensos_pkh" in capsys.readouterr().out


def test_a_source_config_with_an_unknown_field_is_refused(sources):
    with pytest.raises(ValidationFailed) as exc:
        source_save(
            acting_user=None,
            config={"key": "x", "name": "X", "columns": {"full_name": "N", "shoe_size": "S"}},
        )
    assert any(p.field == "columns.shoe_size" for p in exc.value.problems)


def test_the_import_command_reports_counts_and_is_idempotent(sources, tmp_path, capsys):
    path = tmp_path / "bpjs.csv"
    from .test_importing import BAD_DATE, GOOD, _csv

    path.write_bytes(_csv(GOOD, BAD_DATE))
    call_command("import", "bpjs", str(path), "--no-progress")
    assert "1 diterima/accepted, 1 dikarantina/quarantined" in capsys.readouterr().out
    call_command("import", "bpjs", str(path), "--no-progress")
    assert "already imported" in capsys.readouterr().out


@pytest.mark.slow
def test_the_spark_engine_runs_the_same_linkage(synth_regions, synth_dir):
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed (dev extra): the Spark path is for scale-out"
    )
    import shutil

    if shutil.which("java") is None:
        pytest.skip("Spark needs Java on the machine")
    from tepat.integration.models import LinkRun
    from tepat.integration.services import integration_build_from_synth, link_run_execute
    from tepat.registry.loading import registry_load_directory

    registry_load_directory(
        acting_user=None, directory=synth_dir / "registry", source="synth", progress=False
    )
    integration_build_from_synth(synth_dir=synth_dir, progress=False)
    duck = LinkRun.objects.get()
    spark = link_run_execute(acting_user=None, engine="spark")
    assert spark.engine == "spark"
    assert spark.status == "done"
    assert spark.model_id == duck.model_id
    # The jar's Jaro-Winkler and DuckDB's differ in the last decimals, so a pair sitting on a
    # threshold may fall either way: the results agree within a fraction of a percent.
    assert abs(spark.stats["clusters"] - duck.stats["clusters"]) <= 0.005 * duck.stats["clusters"]
    assert abs(spark.stats["matches"] - duck.stats["matches"]) <= 0.005 * duck.stats["matches"]
