#!/usr/bin/env python3
"""The NIK reversal attack on a stolen registry database: how many NIKs an attacker recovers,
and how fast, from a dump of the person table, with and without the blind-index key.

    .venv/bin/python benchmarks/bench_nik_reversal.py [--persons 2000 --region 3273 --seed 7]

An Indonesian NIK is district (6 digits) + birth date DDMMYY (day + 40 for women) + serial (4),
and the civil registry hands serials out in order, so almost every serial is 0001. The script
builds a registry as `tepat demo` does (synth + registry load, on a fresh SQLite database under
a temporary folder), then plays the attacker on the raw tables (SQL, no application code):

* with the blind-index key (the HMAC key behind `nik_index`): enumerate candidate NIKs from
  what the dump holds in clear and compare each candidate's index with the stolen one;
  a match is a recovered NIK (a match proves itself, no ground truth needed).
  - before (clear birth date and sex): household district + the date code + serials 0001..9999,
    then every district of the province with serials 0001..0003 (people who moved);
  - after (birth year only, sex in clear): household district x each day of the year (365 or
    366) x serials 0001..--max-serial, then every district of the province x days x 0001.
* without the key: the same enumeration has nothing to compare against (shown with a key the
  attacker made up: zero matches), and the ciphertexts do not open; what is left is guessing.
  The best single guess per person (household district + date code + 0001; after: + the
  commonest birthday) is scored against the synthetic ground truth.

The script reads whichever schema the tree has (`birth_date` in clear, or `birth_year` with
`birth_date_enc`), so it runs unchanged on the tree before and after the change: run it there
with `PYTHONPATH=<old tree>/src`.
"""

from __future__ import annotations

import argparse
import base64
import calendar
import csv
import datetime as dt
import hmac
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ROOT = Path(__file__).resolve().parent.parent


def date_code(day: int, month: int, year: int, female: bool) -> str:
    return f"{day + 40 * female:02d}{month:02d}{year % 100:02d}"


def days_of(year: int) -> list[tuple[int, int]]:
    return [(d, m) for m in range(1, 13) for d in range(1, calendar.monthrange(year, m)[1] + 1)]


# CPU seconds of this process: the figures stay comparable on a machine shared with other work.
CLOCK = time.process_time

Stems = dict[str, list[str]]  # stolen nik_index -> the 12-digit prefixes to try


def enumerate_serials(
    stems: Stems, index: Callable[[str], str], serials: range
) -> tuple[dict[str, str], int, float, float]:
    """Try prefix + serial for every person, serial-major (0001 for everyone first: nearly
    every serial is 0001). Returns the NIKs found, the candidates tried, the seconds until the
    last success and the seconds in all (the rest is spent failing on the persons left)."""
    found: dict[str, str] = {}
    tries = 0
    start = CLOCK()
    last = 0.0
    left = dict(stems)
    for serial in serials:
        tail = f"{serial:04d}"
        for target, prefixes in list(left.items()):
            for prefix in prefixes:
                tries += 1
                nik = prefix + tail
                if index(nik) == target:
                    found[target] = nik
                    del left[target]
                    last = CLOCK() - start
                    break
        if not left:
            break
    return found, tries, last, CLOCK() - start


Phase = tuple[str, int, int, float, float]  # label, found, tries, seconds to last hit, seconds


def attack(
    rows: list[tuple[str, str, str, list[str]]],
    index: Callable[[str], str],
    districts: list[str],
    *,
    own_serials: range,
    wide_serials: range,
    label: str,
) -> tuple[dict[str, str], list[Phase]]:
    """rows: (stolen index, sex, household district, candidate date codes). Phase 1: the
    household's district; phase 2, for those left: every other district of the province."""
    own = {t: [district + code for code in codes] for t, _sex, district, codes in rows}
    found, tries, last, total = enumerate_serials(own, index, own_serials)
    phases: list[Phase] = [
        (f"own district x {label}, serials {own_serials.start:04d}-{own_serials.stop - 1:04d}",
         len(found), tries, last, total)
    ]  # fmt: skip
    wide = {
        t: [other + code for other in districts if other != district for code in codes]
        for t, _sex, district, codes in rows
        if t not in found
    }
    more, tries, last, total = enumerate_serials(wide, index, wide_serials)
    found.update(more)
    phases.append(
        (f"{len(districts)} districts of the province x {label}, serials "
         f"{wide_serials.start:04d}-{wide_serials.stop - 1:04d}", len(more), tries, last, total)
    )  # fmt: skip
    return found, phases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--region", default="3273", help="regency to synthesise (Kota Bandung)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--max-serial", type=int, default=20, help="after: serials tried in the own district"
    )
    parser.add_argument("--work", type=Path, default=None, help="folder (default: a temp one)")
    args = parser.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="tepat-nik-reversal-"))
    os.environ["TEPAT_VAR_DIR"] = str(work / "var")
    os.environ.pop("TEPAT_DATABASE_URL", None)  # a fresh SQLite file: the stolen database
    os.environ["DJANGO_SETTINGS_MODULE"] = "tepat.config.settings"
    os.environ.setdefault("TEPAT_DEV", "true")  # generated keys under the temp folder
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    import tepat
    from tepat.core import crypto
    from tepat.regions.services import regions_load
    from tepat.registry.loading import registry_load_directory
    from tepat.synth.services import generate

    print(f"code under test: {Path(tepat.__file__).parent}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    call_command("migrate", verbosity=0)
    regions_load()
    synth_dir = work / "synth"
    generate(
        region_code=args.region,
        persons=args.persons,
        seed=args.seed,
        out_dir=synth_dir,
        progress=False,
    )
    registry_load_directory(acting_user=None, directory=synth_dir / "registry", source="bench")

    # --- The dump: raw rows, as a thief with a copy of the database file sees them. ---
    with connection.cursor() as cur:
        columns = {
            c.name for c in connection.introspection.get_table_description(cur, "registry_person")
        }
        schema = "before" if "birth_date" in columns else "after"
        birth_col = "p.birth_date" if schema == "before" else "p.birth_year"
        cur.execute(
            f"SELECT p.nik_index, p.sex, h.village_id, {birth_col} "  # noqa: S608
            "FROM registry_person p JOIN registry_household h ON h.id = p.household_id"
        )
        dump = cur.fetchall()
        cur.execute("SELECT code FROM regions_region WHERE level = 'district' AND code LIKE %s",
                    [args.region[:2] + "%"])  # fmt: skip
        province_districts = sorted(r[0] for r in cur.fetchall())
        cur.execute("SELECT * FROM registry_person LIMIT 1")
        sample = dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))
    print(
        f"schema: {schema} ({'birth_date, sex in clear' if schema == 'before' else 'birth_year, sex in clear; birth date encrypted'})"
    )
    print(
        "one stolen row: "
        + ", ".join(
            f"{k}={str(v)[:24]}"
            for k, v in sample.items()
            if k in {"nik_index", "nik_enc", "sex", "birth_date", "birth_year", "birth_date_enc"}
        )
    )
    n = len(dump)

    # The referee's ground truth (not the attacker's): the synthetic NIKs.
    with (synth_dir / "registry" / "persons.csv").open(encoding="utf-8") as fh:
        true_niks = [r["nik"] for r in csv.DictReader(fh)]
    referee = crypto.blind_indexer(purpose="nik")
    truth = {referee(nik): nik for nik in true_niks}
    serial_one = sum(nik.endswith("0001") for nik in true_niks)

    # What the dump says about each person's date code: one code (the clear date), or one per
    # day of the clear birth year. Sex is in clear in both, so it is used, not enumerated.
    rows: list[tuple[str, str, str, list[str]]] = []
    guesses: dict[str, str] = {}
    for target, sex, village, born in dump:
        district, female = village[:6], sex == "F"
        if schema == "before":
            day = born if isinstance(born, dt.date) else dt.date.fromisoformat(born)
            codes = [date_code(day.day, day.month, day.year, female)]
        else:
            year = int(born)
            codes = [date_code(d, m, year, female) for d, m in days_of(year)]
        rows.append((target, sex, district, codes))
        # The best single guess without any key: the first (or only) date code, serial 0001.
        guesses[target] = f"{district}{codes[0]}0001"
    if schema == "before":
        label, own, wide = "the clear date code", range(1, 10000), range(1, 4)
        how = "household district + clear date code + 0001"
    else:
        label, own, wide = "every day of the year", range(1, args.max_serial + 1), range(1, 2)
        how = "household district + 1 January of the year + 0001"

    # --- 1. The attacker holds the blind-index key (stolen with the database host). ---
    with_key = crypto.blind_indexer(purpose="nik")
    found, phases = attack(
        rows, with_key, province_districts, own_serials=own, wide_serials=wide, label=label
    )
    tries = sum(p[2] for p in phases)
    seconds = sum(p[4] for p in phases)
    wrong = sum(truth.get(k) != v for k, v in found.items())
    print(
        f"WITH the blind-index key: {len(found):,} of {n:,} NIKs reversed "
        f"({100 * len(found) / n:.1f}%), {tries:,} candidate HMACs in {seconds:.2f} CPU s "
        f"({tries / max(seconds, 1e-9) / 1e6:.2f} M/s, one core, Python); wrong: {wrong}"
    )
    for name, hits, ptries, last, total in phases:
        print(
            f"  {name}: {hits:,} reversed, the last after {last:.2f} CPU s "
            f"({ptries:,} candidates, {total:.2f} CPU s in all)"
        )

    # --- 2. Without the key: a made-up key matches nothing; ciphertexts do not open. ---
    guessed_key = hmac.new(b"attacker-guess", b"tepat-blind-index:nik", "sha256").digest()
    keyed = hmac.new(guessed_key, digestmod="sha256")

    def without_key(value: str) -> str:
        h = keyed.copy()
        h.update(value.encode())
        return h.hexdigest()[:32]

    sub = rows[: min(100, n)]
    found0, phases0 = attack(
        sub,
        without_key,
        [],  # own district only: nothing can match anywhere
        own_serials=range(1, 101) if schema == "before" else range(1, 4),
        wide_serials=range(1, 2),
        label=label,
    )
    print(
        f"WITHOUT the key, the same enumeration against a made-up key ({len(sub)} persons): "
        f"{len(found0)} reversed, {sum(p[2] for p in phases0):,} candidates in "
        f"{sum(p[4] for p in phases0):.2f} CPU s"
    )
    # Nor does a ciphertext open without the field key.
    token = str(sample.get("nik_enc") or "")
    raw = base64.b64decode(token.partition(":")[2] or "AAAA")
    try:
        AESGCM(os.urandom(32)).decrypt(raw[:12], raw[12:], b"registry.person.nik")
        opened = "opened (!)"
    except InvalidTag:
        opened = "refused (InvalidTag)"
    print(f"WITHOUT the field key, a stolen nik_enc under a made-up key: {opened}")
    # Best single guess per person, scored by the referee.
    right = sum(truth.get(k) == v for k, v in guesses.items())
    print(
        f"WITHOUT any key, best single guess ({how}), which the attacker cannot check: "
        f"{right:,} of {n:,} right ({100 * right / n:.1f}%)"
    )
    print(
        f"ground truth: {serial_one:,} of {len(true_niks):,} NIKs have serial 0001 "
        f"({100 * serial_one / len(true_niks):.1f}%)"
    )
    print(f"work folder: {work}")


if __name__ == "__main__":
    sys.exit(main())
