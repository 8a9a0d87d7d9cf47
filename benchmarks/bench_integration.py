"""Benchmark the integration pipeline against the `tepat synth` truth file.

Two modes, each size in a fresh subprocess (peak RSS measured alone through os.wait4):

- pipeline (default): fresh SQLite database, registry baseline loaded, then the real pipeline
  (`integration_build_from_synth`: import with quarantine -> Splink link -> golden records,
  registry write-back with history, flags, review queue). Reports seconds per stage, pairs
  compared, pairwise and cluster-level precision/recall from the staged records' clusters, and a
  baseline measured in the same run: deterministic exact-NIK linkage of the same records.
- --engine-only: the Splink linkage alone on the source CSVs (no database), to show how the
  linkage itself grows from 100k to 1M records.

    .venv/bin/python benchmarks/bench_integration.py --persons 20000 46000
    .venv/bin/python benchmarks/bench_integration.py --engine-only --persons 46000 460000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from math import comb
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent


def pairwise(frame: pd.DataFrame, cluster_col: str) -> dict[str, float]:
    """Pairwise and cluster-level precision/recall of `cluster_col` against `person_key`."""

    def pairs(sizes: pd.Series) -> int:
        return int(sum(comb(int(n), 2) for n in sizes))

    tp = pairs(frame.groupby([cluster_col, "person_key"]).size())
    predicted = pairs(frame.groupby(cluster_col).size())
    true = pairs(frame.groupby("person_key").size())
    # Cluster level: a true person is exactly recovered when its records form one predicted
    # cluster holding nothing else.
    by_person = frame.groupby("person_key")[cluster_col].agg(["nunique", "first"])
    cluster_sizes = frame.groupby(cluster_col).size()
    person_sizes = frame.groupby("person_key").size()
    exact = (by_person["nunique"] == 1) & (
        cluster_sizes.reindex(by_person["first"]).to_numpy() == person_sizes.to_numpy()
    )
    return {
        "precision": round(tp / predicted, 5) if predicted else 1.0,
        "recall": round(tp / true, 5) if true else 1.0,
        "true_pairs": true,
        "predicted_pairs": predicted,
        "persons": len(by_person),
        "persons_exactly_clustered": round(float(exact.mean()), 5),
    }


def truth(synth: Path) -> pd.DataFrame:
    t = pd.read_csv(synth / "truth" / "records.csv", dtype=str, keep_default_na=False)
    source_key = {"survey": "dtsen"}
    t["unique_id"] = t["source"].map(lambda s: source_key.get(s, s)) + ":" + t["source_record_id"]
    # A record of nobody (an electricity customer unknown to the registry) is its own person:
    # linking it to anyone counts as a false pair.
    t["person_key"] = t["person_key"].where(t["person_key"] != "", "none:" + t["unique_id"])
    return t[["unique_id", "person_key"]]


def recall_ceiling(records: pd.DataFrame, t: pd.DataFrame) -> dict[str, float]:
    """How much recall the records allow. A record with neither NIK nor birth date (nor age), in a
    village where no other record of its person is (an electricity customer at an old address
    or a landlord's meter), carries nothing but a name: only a guess on the name can join it to
    its person. `no_name_guess` is the best pairwise recall of a linker that never joins a
    record on its name alone; `unique_name_oracle` adds the records whose normalized name no
    other person of the run bears (what a perfect unique-name rule could link, knowing which
    names are unique, which a linker can only estimate)."""
    from tepat.integration.linkage import normalize_name

    r = records.reindex(
        columns=["unique_id", "nik", "birth_date", "birth_year", "village_code", "full_name"],
        fill_value="",
    ).merge(t, on="unique_id")
    size = r.groupby("person_key")["unique_id"].transform("size")
    true = int(sum(comb(int(n), 2) for n in r.groupby("person_key").size()))
    in_village = r.groupby(["person_key", "village_code"])["unique_id"].transform("size")
    name_only = (
        (r["nik"] == "")
        & (r["birth_date"].fillna("") == "")
        & (r["birth_year"].fillna("") == "")
        & ((r["village_code"] == "") | (in_village == 1))
        & (size > 1)
    )
    away = r[name_only].assign(size=size[name_only])

    def lost(rows: pd.DataFrame) -> int:
        # Each such record misses its pairs with the rest of its person; a pair of two such
        # records of one person is counted once.
        per_person = rows.groupby("person_key").size()
        return int((rows["size"] - 1).sum() - sum(comb(int(n), 2) for n in per_person))

    names = r["full_name"].map(normalize_name).map(lambda n: " ".join(sorted(n.split())))
    bearers = pd.DataFrame({"name": names, "person_key": r["person_key"]})
    owners = bearers.drop_duplicates().groupby("name").size()
    guessed = away[names[name_only].map(owners).to_numpy() > 1]
    return {
        "name_only_records": len(away),
        "pairs_only_a_name_can_join": lost(away),
        "no_name_guess": round(1 - lost(away) / true, 5) if true else 1.0,
        "unique_name_oracle": round(1 - lost(guessed) / true, 5) if true else 1.0,
    }


PIPELINE_CHILD = r"""
import json, os, sys, time, csv
from pathlib import Path
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
django.setup()
from django.core.management import call_command
synth = Path(sys.argv[1])
call_command("migrate", verbosity=0)
from tepat.regions.models import Level, Region
villages = set()
with (synth / "registry" / "households.csv").open(encoding="utf-8") as fh:
    villages |= {r["village_code"] for r in csv.DictReader(fh)}
Region.objects.create(code="32", dotted_code="32", name="Jawa Barat", level=Level.PROVINCE)
Region.objects.create(code="3273", dotted_code="32.73", name="Kota Bandung", level=Level.REGENCY, parent_id="32")
for d in sorted({v[:6] for v in villages}):
    Region.objects.create(code=d, dotted_code=d, name=d, level=Level.DISTRICT, parent_id="3273")
Region.objects.bulk_create([Region(code=v, dotted_code=v, name=v, level=Level.VILLAGE, parent_id=v[:6]) for v in sorted(villages)])
from tepat.registry.loading import registry_load_directory
t = time.perf_counter()
registry_load_directory(acting_user=None, directory=synth / "registry", source="synth", progress=False)
registry_s = time.perf_counter() - t
from tepat.integration.services import integration_build_from_synth
from tepat.integration import importing
t = time.perf_counter()
report = integration_build_from_synth(synth_dir=synth, progress=False)
total = time.perf_counter() - t
from tepat.integration.models import ImportRun, StagedRecord
imports_s = sum((r.finished_at - r.started_at).total_seconds() for r in ImportRun.objects.all())
rows = list(StagedRecord.objects.filter(current=True).values_list("source__key", "record_id", "cluster_id", "nik_index"))
out = {"registry_load_s": round(registry_s, 1), "pipeline_s": round(total, 1), "imports_s": round(imports_s, 1),
       "link": report.link, "quarantined": report.quarantined, "review_pairs": report.review_pairs,
       "imports": report.imports}
Path(sys.argv[2]).write_text(json.dumps({"summary": out, "records": rows}))
"""

ENGINE_CHILD = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from bench_integration import engine_records
from tepat.integration import linkage
synth = Path(sys.argv[1])
t = time.perf_counter()
recs = engine_records(synth)
read_s = time.perf_counter() - t
out = linkage.link(recs, model_json=None, match_threshold=0.95, review_threshold=0.5)
clusters = out.clusters
Path(sys.argv[2]).write_text(json.dumps({"summary": {"read_s": round(read_s, 1), "link": out.stats,
    "records": len(recs)}, "clusters": clusters.values.tolist(),
    "nik": recs[["unique_id", "nik"]].values.tolist()}))
"""


def engine_records(synth: Path) -> pd.DataFrame:
    """Canonical records straight from the CSVs, with the rows the import would quarantine
    (spreadsheet NIKs, unknown region codes, impossible dates) left out."""

    def rd(name: str) -> pd.DataFrame:
        return pd.read_csv(synth / "sources" / name, dtype=str, keep_default_na=False)

    def iso(values: pd.Series, fmt: str) -> pd.Series:
        return pd.to_datetime(values, format=fmt, errors="coerce").dt.strftime("%Y-%m-%d")

    as_of = date.fromisoformat(json.loads((synth / "manifest.json").read_text())["as_of"])
    sex = {"LAKI-LAKI": "M", "PEREMPUAN": "F", "L": "M", "P": "F", "PRIA": "M", "WANITA": "F"}
    frames = []
    k = rd("dukcapil.csv")
    frames.append(pd.DataFrame({"unique_id": "dukcapil:" + k.source_record_id, "source": "dukcapil",
        "nik": k.NIK, "kk": k.NO_KK, "full_name": k.NAMA_LGKP, "sex": k.JENIS_KLMIN.map(sex),
        "birth_date": iso(k.TGL_LHR, "%d-%m-%Y"), "village_code": k.KODE_DESA, "address": k.ALAMAT}))  # fmt: skip
    b = rd("bpjs.csv")
    frames.append(pd.DataFrame({"unique_id": "bpjs:" + b.source_record_id, "source": "bpjs",
        "nik": b.NIK, "kk": "", "full_name": b.NAMA, "sex": b.JK.map(sex),
        "birth_date": iso(b.TGL_LAHIR, "%Y-%m-%d"), "village_code": b.KD_DESA, "address": b.ALAMAT}))  # fmt: skip
    a = rd("asn_payroll.csv")
    frames.append(pd.DataFrame({"unique_id": "asn_payroll:" + a.source_record_id, "source": "asn_payroll",
        "nik": a.NIK, "kk": "", "full_name": a.NAMA, "sex": a.JENIS_KELAMIN.map(sex),
        "birth_date": iso(a.TGL_LAHIR, "%d/%m/%Y"), "village_code": "", "address": a.ALAMAT}))  # fmt: skip
    p = rd("pln.csv")
    frames.append(pd.DataFrame({"unique_id": "pln:" + p.source_record_id, "source": "pln",
        "nik": p.NIK, "kk": "", "full_name": p.NAMA_PELANGGAN, "sex": "", "birth_date": "",
        "village_code": p.KODE_DESA, "address": p.ALAMAT}))  # fmt: skip
    s = rd("survey.csv")
    frames.append(pd.DataFrame({"unique_id": "dtsen:" + s.source_record_id, "source": "dtsen",
        "nik": s.NIK_KRT, "kk": "", "full_name": s.NAMA_KRT, "sex": s.KRT_JK, "birth_date": "",
        "village_code": s.KODE_DESA, "address": "",
        "birth_year": (as_of.year - pd.to_numeric(s.KRT_UMUR)).astype(str)}))  # fmt: skip
    recs = pd.concat(frames, ignore_index=True).fillna("")
    bad = recs["nik"].str.contains("E", regex=False) | recs["village_code"].str.startswith("99")
    return recs[~bad].reset_index(drop=True)


def run_child(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("benchmark child failed")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def one(persons: int, engine_only: bool) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="bench-integ-"))
    try:
        from tepat.synth.services import generate

        synth = work / "synth"
        generate(region_code="3273", persons=persons, seed=11, out_dir=synth, progress=False)
        source_rows = sum(
            sum(1 for _ in (synth / "sources" / f).open()) - 1
            for f in os.listdir(synth / "sources")
        )
        env = dict(os.environ, TEPAT_VAR_DIR=str(work / "var"))
        env.pop("TEPAT_DATABASE_URL", None)
        result = work / "result.json"
        if engine_only:
            wall, rss = run_child(ENGINE_CHILD, [str(synth), str(result), str(HERE)], env)
            data = json.loads(result.read_text())
            frame = pd.DataFrame(data["clusters"], columns=["unique_id", "cluster_id"])
            nik = pd.DataFrame(data["nik"], columns=["unique_id", "nik"])
        else:
            wall, rss = run_child(PIPELINE_CHILD, [str(synth), str(result)], env)
            data = json.loads(result.read_text())
            rows = pd.DataFrame(
                data["records"], columns=["source", "record_id", "cluster_id", "nik_index"]
            )
            rows["unique_id"] = rows["source"] + ":" + rows["record_id"]
            frame = rows[["unique_id", "cluster_id"]]
            nik = rows[["unique_id", "nik_index"]].rename(columns={"nik_index": "nik"})
        t = truth(synth)
        m = frame.merge(t, on="unique_id")
        quality = pairwise(m, "cluster_id")
        # Baseline in the same run: records with the same NIK are one person, nothing else.
        base = nik.merge(t, on="unique_id")
        base["nik_cluster"] = base["nik"].where(base["nik"] != "", base["unique_id"])
        baseline = pairwise(base, "nik_cluster")
        ceiling = recall_ceiling(engine_records(synth), t)
        return {
            "persons": persons,
            "source_rows": source_rows,
            "wall_s": round(wall, 1),
            "peak_rss_mib": round(rss),
            "quality": quality,
            "baseline_exact_nik": baseline,
            "recall_ceiling": ceiling,
            **data["summary"],
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, nargs="+", default=[20000, 46000])
    parser.add_argument("--engine-only", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    print(f"# {platform.node()} {platform.processor()} cpus={os.cpu_count()}", flush=True)
    for persons in args.persons:
        print(json.dumps(one(persons, args.engine_only), default=str), flush=True)


if __name__ == "__main__":
    main()
