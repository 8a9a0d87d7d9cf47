"""`generate`: a synthetic region's registry baseline, agency source files and the truth.

Each stage draws from its own random stream (seed, stage number), so the files are identical for
a seed and a change in one stage does not reshuffle the others.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from tepat.synth import codes as c
from tepat.synth import economy, files
from tepat.synth.addresses import addresses, rt_rw
from tepat.synth.contacts import make_contacts
from tepat.synth.dates import to_days
from tepat.synth.households import Composition, compose
from tepat.synth.names import STR, StrArray, person_names
from tepat.synth.nik import make_numbers
from tepat.synth.people import NO_DATE, Homes, People
from tepat.synth.persons import Persons, make_persons
from tepat.synth.regions import Region, load_region
from tepat.synth.sources import asn, bpjs, community, dukcapil, pln, survey
from tepat.synth.sources.common import SourceTable
from tepat.synth.writer import write_csv

SCHEMA_VERSION = 1
GENERATOR_VERSION = "1.0.0"
DEFAULT_AS_OF = dt.date(2026, 11, 1)
DEAD_BEFORE_BASELINE = 0.003  # died before the registry snapshot: only Dukcapil knows
DEATH_NOT_PROPAGATED = 0.004  # died after it: the registry still lists them as alive
ASN_OUTSIDE_SHARE = 0.3  # payroll employees living outside the region, per local employee

I64 = npt.NDArray[np.int64]
STAGES = ("households", "persons", "living standards", "registry files", "deaths",
          "dukcapil", "bpjs", "survey", "asn_payroll", "pln", "community", "truth files")  # fmt: skip


def _stream(seed: int, stage: int) -> np.random.Generator:
    return np.random.default_rng([seed, stage])


def _mortality_pick(rng: np.random.Generator, candidates: I64, age: I64, count: int) -> I64:
    """`count` of the candidates, the old far more likely than the young."""
    count = min(count, len(candidates))
    if count <= 0:
        return np.array([], np.int64)
    weight = np.exp(0.09 * (np.minimum(age[candidates], 100) - 70))
    return np.sort(rng.choice(candidates, size=count, replace=False, p=weight / weight.sum()))


class _Progress:
    def __init__(self, enabled: bool) -> None:
        self.bar = tqdm(total=len(STAGES), disable=not enabled, unit="step", desc="tepat synth")
        self.started = False

    def stage(self, name: str) -> None:
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_postfix_str(name)

    def close(self) -> None:
        self.bar.update(1)
        self.bar.close()


def generate(
    *,
    region_code: str,
    persons: int,
    seed: int,
    out_dir: str | Path,
    progress: bool = True,
    as_of: dt.date = DEFAULT_AS_OF,
) -> dict[str, Any]:
    """Write the synthetic region under `out_dir` and return its manifest.

    `persons` is the number of living persons in the registry baseline; the truth also holds
    people who died before it and payroll employees who live outside the region.
    """
    if persons < 10:
        raise ValueError("persons must be at least 10")
    out = Path(out_dir)
    region = load_region(region_code)
    today = to_days(as_of)
    bar = _Progress(progress)
    counts: dict[str, int] = {}
    columns: dict[str, list[str]] = {}

    def write(name: str, data: files.Columns) -> None:
        counts[name] = write_csv(out / name, data)
        columns[name] = list(data)

    bar.stage("households")
    n_dead_before = round(persons * DEAD_BEFORE_BASELINE)
    comp = compose(_stream(seed, 1), region, persons + n_dead_before)
    wealth = economy.household_wealth(_stream(seed, 2), comp)

    bar.stage("persons")
    pers = make_persons(_stream(seed, 3), region, comp, wealth, today)

    bar.stage("living standards")
    rng = _stream(seed, 4)
    not_head = np.flatnonzero(comp.relationship != c.HEAD).astype(np.int64)
    dead_before = _mortality_pick(rng, not_head, comp.age, n_dead_before)
    in_registry = np.ones(len(comp.age), np.bool_)
    in_registry[dead_before] = False
    widowed = dead_before[comp.relationship[dead_before] == c.SPOUSE]
    pers.marital[comp.start[comp.hh[widowed]]] = c.WIDOWED
    size = np.bincount(comp.hh[in_registry], minlength=len(comp.size)).astype(np.int64)
    urban = region.village_urban[comp.village]
    proxies = economy.make_proxies(rng, wealth, size, urban)
    x = economy.design_matrix(proxies, size, **economy.head_summary(comp, pers))
    consumption, sigma = economy.consumption(rng, x, comp.region_effect, size)

    bar.stage("registry files")
    rng = _stream(seed, 5)
    h = len(comp.size)
    head = comp.start
    # A family card is (re)issued some time after the head came of age.
    earliest = np.maximum(pers.birth[head] + round(17 * 365.25), to_days(dt.date(2005, 1, 1)))
    issued = earliest + (rng.random(h) * np.maximum(today - 30 - earliest, 1)).astype(np.int64)
    kk = make_numbers(region.village_district[comp.village], issued, rng).astype(STR)
    village_code = region.village_codes[comp.village].astype(STR)
    address = addresses(rng, region.village_urban[comp.village], region.village_names)
    rt, rw = rt_rw(rng, comp.village, len(region.village_codes))
    wealth_rank = np.argsort(np.argsort(wealth, kind="stable"), kind="stable") / max(h - 1, 1)
    contacts = make_contacts(
        rng,
        is_head=comp.relationship == c.HEAD,
        age=comp.age,
        urban=urban[comp.hh],
        wealth_rank=wealth_rank[comp.hh],
    )
    nik = pers.nik.astype(STR)
    household_columns = files.registry_households(kk, village_code, address, rt, rw, proxies)
    registry = np.flatnonzero(in_registry).astype(np.int64)
    write("registry/households.csv", household_columns)
    write("registry/persons.csv", files.registry_persons(registry, comp, pers, contacts, nik, kk))

    bar.stage("deaths")
    rng = _stream(seed, 6)
    deceased_on = np.full(len(comp.age), NO_DATE, np.int64)
    deceased_on[dead_before] = today - rng.integers(180, 1000, len(dead_before))
    late = _mortality_pick(rng, registry, comp.age, round(len(registry) * DEATH_NOT_PROPAGATED))
    deceased_on[late] = today - rng.integers(5, 150, len(late))

    n_outside = round(ASN_OUTSIDE_SHARE * int((pers.work[registry] == c.CIVIL_SERVANT).sum()))
    outside = _outside_employees(_stream(seed, 7), region, n_outside, today)
    people = _everyone(comp, pers, nik, kk, in_registry, deceased_on, outside)
    homes = Homes(
        kk=kk, village=comp.village, village_code=village_code, address=address, rt=rt, rw=rw,
        head=head, size=size, wealth_rank=wealth_rank, consumption=consumption,
    )  # fmt: skip
    spouse_of_home = np.full(h, -1, np.int64)
    spouse = np.flatnonzero((comp.relationship == c.SPOUSE) & in_registry)
    spouse_of_home[comp.hh[spouse]] = spouse

    tables: list[SourceTable] = []
    bar.stage("dukcapil")
    tables.append(dukcapil.build(_stream(seed, 10), people, homes))
    bar.stage("bpjs")
    tables.append(bpjs.build(_stream(seed, 11), people, homes))
    bar.stage("survey")
    heads = files.household_heads(comp, pers, in_registry)
    tables.append(survey.build(_stream(seed, 12), people, homes, household_columns, heads))
    bar.stage("asn_payroll")
    tables.append(asn.build(_stream(seed, 13), people, homes, region.name, region.level))
    bar.stage("pln")
    tables.append(pln.build(_stream(seed, 14), people, homes, household_columns, spouse_of_home))
    for t in tables:
        write(f"sources/{t.name}.csv", t.output())
    bar.stage("community")
    # Its own stream (15): the other files stay byte-identical for a seed.
    deliberation, community_truth = community.build(
        _stream(seed, 15), kk=kk, village=comp.village, village_code=village_code,
        consumption=consumption, x=x,
    )  # fmt: skip
    write("sources/community_ranking.csv", deliberation)

    bar.stage("truth files")
    write("truth/records.csv", _records(tables, people, kk))
    nik_district = np.strings.slice(people.nik, 0, 6)
    nik_district[: len(comp.age)] = pers.nik_district.astype(STR)
    write("truth/persons.csv", files.truth_persons(people, region.village_codes, nik_district))
    write("truth/households.csv", files.truth_households(kk, consumption, size, wealth_rank))
    write("truth/community_ranking.csv", community_truth)
    bar.close()

    poor = consumption < economy.POVERTY_LINE
    manifest: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "region": {"code": region.code, "name": region.name, "level": region.level},
        "as_of": as_of.isoformat(),
        "parameters": {
            "persons": persons,
            "poverty_line": economy.POVERTY_LINE,
            "poor_share_target": economy.POOR_SHARE,
            "consumption_noise_sd": round(sigma, 4),
            "dead_before_baseline": DEAD_BEFORE_BASELINE,
            "death_not_propagated": DEATH_NOT_PROPAGATED,
            "asn_outside_share": ASN_OUTSIDE_SHARE,
            "survey": {
                "village_rate": survey.SAMPLE_VILLAGE,
                "household_rate": survey.SAMPLE_HOUSEHOLD,
                "measurement_error_sd": survey.MEASUREMENT_ERROR,
            },
            "community": community.manifest_entry(community.CommunityModel(), community_truth),
            "corruption_rates": {
                "dukcapil": dukcapil.RATES,
                "bpjs": bpjs.RATES,
                "survey": survey.RATES,
                "asn_payroll": asn.RATES,
                "pln": pln.RATES,
            },
        },
        "summary": {
            "households": h,
            "poor_persons_share": round(float((poor * size).sum() / max(size.sum(), 1)), 4),
        },
        "counts": counts,
        "columns": columns,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


@dataclass
class _Outside:
    """Payroll employees who live outside the region (not in its households)."""

    nik: StrArray
    name: StrArray
    female: npt.NDArray[np.bool_]
    birth: I64
    education: npt.NDArray[np.int8]


def _outside_employees(rng: np.random.Generator, region: Region, n: int, today: int) -> _Outside:
    female = rng.random(n) < 0.4
    birth = today - rng.integers(round(22 * 365.25), round(57 * 365.25), n)
    districts = np.r_[region.province_districts, region.other_districts]
    nik = make_numbers(districts[rng.integers(0, len(districts), n)], birth, rng, female)
    edu = rng.choice([c.EDU_SMA, c.EDU_DIPLOMA, c.EDU_UNIVERSITY], n, p=[0.3, 0.15, 0.55])
    return _Outside(nik.astype(STR), person_names(rng, female), female, birth, edu.astype(np.int8))


def _everyone(
    comp: Composition, pers: Persons, nik: StrArray, kk: StrArray, in_registry: npt.NDArray[np.bool_],
    deceased_on: I64, o: _Outside,
) -> People:  # fmt: skip
    """Household members (living and dead) in household order, then outside employees."""
    m = len(o.nik)
    n_all = len(comp.age) + m
    # Ages of outside employees feed nothing (mortality is drawn among household members).
    return People(
        person_key=np.strings.add("P", np.strings.zfill(np.arange(1, n_all + 1).astype(STR), 8)),
        nik=np.r_[nik, o.nik].astype(STR),
        kk=np.r_[kk[comp.hh], np.full(m, "", dtype=STR)].astype(STR),
        hh=np.r_[comp.hh, np.full(m, -1, np.int64)],
        name=np.r_[pers.name, o.name].astype(STR),
        female=np.r_[comp.female, o.female],
        birth=np.r_[pers.birth, o.birth],
        birth_place=np.r_[pers.birth_place, np.full(m, "", dtype=STR)].astype(STR),
        relationship=np.r_[comp.relationship, np.full(m, c.HEAD, np.int8)],
        marital=np.r_[pers.marital, np.full(m, c.MARRIED, np.int8)],
        education=np.r_[pers.education, o.education],
        school=np.r_[pers.school, np.full(m, c.SCHOOL_NONE, np.int8)],
        work=np.r_[pers.work, np.full(m, c.CIVIL_SERVANT, np.int8)],
        village=np.r_[comp.village[comp.hh], np.full(m, -1, np.int64)],
        in_registry=np.r_[in_registry, np.zeros(m, np.bool_)],
        nik_outdated=np.r_[pers.nik_outdated, np.zeros(m, np.bool_)],
        deceased_on=np.r_[deceased_on, np.full(m, NO_DATE, np.int64)],
        age=np.r_[comp.age, np.full(m, 40, np.int64)],
    )


def _records(tables: list[SourceTable], people: People, kk: StrArray) -> files.Columns:
    """truth/records.csv: every source row's true person (blank: none) and household."""

    def key(t: SourceTable) -> StrArray:
        return np.where(t.person >= 0, people.person_key[np.maximum(t.person, 0)], "").astype(STR)

    def home(t: SourceTable) -> StrArray:
        return np.where(t.home >= 0, kk[np.maximum(t.home, 0)], "").astype(STR)

    return {
        "source": np.concatenate([np.full(len(t), t.name, dtype=STR) for t in tables]),
        "source_record_id": np.concatenate([t.record_ids() for t in tables]),
        "person_key": np.concatenate([key(t) for t in tables]),
        "kk": np.concatenate([home(t) for t in tables]),
        "corruptions": np.concatenate([t.corruptions for t in tables]),
    }
