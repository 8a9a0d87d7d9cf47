"""What makes the demo a living system rather than an empty one: region boundaries for the public
map, a few complaints, and one cycle taken down the whole path (computed, approved, issued, paid
through the provider simulator, reconciled with its signed statements, distributed and closed),
its entries sequenced into the transparency log and the open data exported.

Every step goes through the same services the pages and commands use, as the demo's staff, and
every step is idempotent: a second `tepat demo` finds what the first made and carries on from
where it stands (a cycle left half-way, e.g. by an interrupted run, is taken further).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Say = Callable[[str], None]

# (file name under the boundaries folder, level, the feature property holding the code)
BOUNDARY_FILES = (
    ("cahyadsn_provinsi_38_lite.geojson", "province", "kode"),
    ("cahyadsn_kabkota_514_lite.geojson", "regency", "kode"),
)

# A few complaints for the operator's inbox: (submission key, category, description).
DEMO_COMPLAINTS = (
    ("demokeluhan0001", "not_received",
     "Bantuan tahap ini belum kami terima, padahal tetangga sudah menerima."),
    ("demokeluhan0002", "data",
     "Tanggal lahir anak kedua di data keluarga kami salah, mohon diperbaiki."),
    ("demokeluhan0003", "service",
     "Petugas penyalur meminta uang tambahan saat pengambilan bantuan di kantor pos."),
)  # fmt: skip


def default_boundaries_dir() -> Path:
    """`../shared/data/geo` beside the repository (the reference data tests read too)."""
    repository = Path(__file__).resolve().parents[3]  # src/tepat/demo/living.py
    return repository.parent / "shared" / "data" / "geo"


# --- boundaries ----------------------------------------------------------------------------


def boundaries_load(*, directory: Path, say: Say) -> int:
    """Province and regency boundaries from `directory`, once; returns how many levels are now
    loaded. Absent files are said plainly: the public dashboard then shows a tile grid."""
    from tepat.regions.models import RegionBoundary
    from tepat.regions.services import regions_load_boundaries

    loaded = 0
    for name, level, prop in BOUNDARY_FILES:
        if RegionBoundary.objects.filter(region__level=level).exists():
            say(f"    batas {level} sudah dimuat, dilewati / {level} boundaries already loaded")
            loaded += 1
            continue
        path = directory / name
        if not path.is_file():
            say(
                f"    batas {level} tidak ada: {path} / {level} boundaries absent (the public "
                "map shows a tile grid instead; load them with `tepat regions load-boundaries`)"
            )
            continue
        report = regions_load_boundaries(path=path, level=level, code_property=prop)
        say(f"    batas {level}: {report.matched} wilayah / regions ({name})")
        loaded += 1
    return loaded


# --- complaints ----------------------------------------------------------------------------


def complaints_seed(*, regency: str, say: Say) -> int:
    """A few complaints in the regency's first villages (the same ones on every run: each has a
    fixed submission key, which the service answers with the complaint it already holds)."""
    from tepat.grievances.services import complaint_submit
    from tepat.regions.models import Region

    villages = list(
        Region.objects.filter(level="village", code__startswith=regency)
        .order_by("code")
        .values_list("code", flat=True)[: len(DEMO_COMPLAINTS)]
    )
    if not villages:
        return 0
    made = 0
    for i, (key, category, text) in enumerate(DEMO_COMPLAINTS):
        _, created = complaint_submit(
            submission_key=key,
            category=category,
            village_code=villages[i % len(villages)],
            description=text,
        )
        made += int(created)
    say(f"    {len(DEMO_COMPLAINTS)} pengaduan ({made} baru) / complaints ({made} new)")
    return len(DEMO_COMPLAINTS)


# --- a paid cycle --------------------------------------------------------------------------


@dataclass
class PaidCycle:
    cycle: Any | None  # programs.models.Cycle
    state: str
    paid: int = 0
    paid_amount: int = 0
    reason: str = ""


def provider_keys_ensure(state_dir: Path) -> Path:
    """The simulator's signing keys under `state_dir` (made once: keys.json, mode 0600) and
    their public halves beside them, which `make demo` gives the served app and the payments
    worker (TEPAT_PROVIDER_KEYS_FILE); returns the public file. Made even when no cycle is paid,
    so that the file the Makefile names always exists."""
    from tepat.payments import provider_sim

    keys_file = state_dir / "keys.json"
    provider_sim.load_keys(keys_file)
    return keys_file.with_suffix(".public.json")


@contextmanager
def provider_simulator(state_dir: Path) -> Iterator[str]:
    """The provider simulator (`tepat provider-sim`) on a free loopback port for the length of the
    block, signing with its own keys under `state_dir`, and Tepat believing those keys (and only
    those: TEPAT_PROVIDER_KEYS) meanwhile; yields its URL. Its journal persists under
    `state_dir`, so a second run's retries are replays, never second payments."""
    from django.test.utils import override_settings

    from tepat.payments import provider_sim

    public = provider_keys_ensure(state_dir).read_text(encoding="utf-8")
    keys = provider_sim.load_keys(state_dir / "keys.json")
    config = provider_sim.SimConfig(port=0, statement_dir=state_dir, keys=keys)
    server = provider_sim.serve(config)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with override_settings(TEPAT_PROVIDER_KEYS=public):
            yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _cap_per_household(params: dict[str, Any]) -> int:
    """The most one household can receive in one tahap under the programme's parameters."""
    from tepat.programs import calc

    if "annual" in params:
        full = {c: int(params["max_components"]) for c in calc.PKH_COMPONENTS}
        return calc.pkh_amount(params, full)
    return calc.flat_amount(params)


def paid_cycle(*, regency: str, year: int, demo_dir: Path, say: Say) -> PaidCycle:
    """PKH's first tahap of `year` for the regency, down the whole path as the demo's staff: the
    operator prepares (create, compute, submit) and issues; the supervisor approves (the admin
    wrote the programme and the operator prepared the cycle: maker-checker holds); the worker pays
    through the simulator; the admin imports the providers' signed statements; the supervisor
    distributes (reconciled) and closes. Taken on from whatever state an earlier run left."""
    from tepat.accounts.models import User
    from tepat.core.errors import TepatError
    from tepat.payments import services as payments
    from tepat.payments import worker
    from tepat.payments.models import Payment
    from tepat.payments.providers import G2PConnectAdapter
    from tepat.programs import calc
    from tepat.programs import services as programs
    from tepat.programs.models import Cycle, CycleState, Programme
    from tepat.registry.models import Household
    from tepat.targeting.models import HouseholdScore

    programme = Programme.objects.filter(code=f"PKH-{year}").first()
    if programme is None:
        return PaidCycle(None, "", reason="tidak ada program PKH / no PKH programme")
    staff = {u.username: u for u in User.objects.filter(username__in=["operator", "supervisor",
                                                                        "admin"])}  # fmt: skip
    operator, supervisor, admin = staff["operator"], staff["supervisor"], staff["admin"]
    code = f"{year}-T1"
    cycle = Cycle.objects.filter(programme=programme, code=code).first()
    if cycle is None:
        if not HouseholdScore.objects.exists():
            return PaidCycle(None, "", reason="tanpa desil (PMT dilewati) / no desil (no PMT)")
        households = Household.objects.filter(village__code__startswith=regency).count()
        params = calc.params_validate(programme.kind, programme.params)
        # The envelope: at most every household of the regency at the most one may receive.
        cycle = programs.cycle_create(
            acting_user=operator, programme=programme, code=code, instalment=1,
            period_start=dt.date(year, 1, 1), period_end=dt.date(year, 3, 31),
            control_count=households,
            control_amount=households * _cap_per_household(params), region_code=regency,
        )  # fmt: skip
        say(f"    tahap {programme.code} {code} dibuat / cycle created")
    if cycle.state == CycleState.DRAFT:
        cycle = programs.cycle_compute(acting_user=operator, cycle=cycle)
        if not cycle.entitled_count:
            return PaidCycle(cycle, cycle.state, reason="tidak ada penerima / nobody entitled")
        cycle = programs.cycle_submit(acting_user=operator, cycle=cycle)
        say(f"    dihitung dan diajukan / computed and submitted: {cycle.entitled_count:,} KPM")
    if cycle.state == CycleState.TO_APPROVE:
        cycle = programs.cycle_approve(acting_user=supervisor, cycle=cycle)
        say("    disetujui oleh supervisor / approved by the supervisor")
    if cycle.state == CycleState.APPROVED:
        issued = payments.payments_issue(acting_user=operator, cycle=cycle)
        say(f"    {issued:,} pembayaran diterbitkan / payments issued")
        with provider_simulator(demo_dir / "provider-sim") as url:
            adapter = G2PConnectAdapter(url, callback_url="")
            config = worker.WorkerConfig(batch=500, backoff_base_s=0.0, backoff_cap_s=0.0)
            tally = worker.run(adapter=adapter, config=config, once=True)
            say(f"    penyalur simulasi membayar / the simulated providers paid "
                f"{tally.paid:,} (gagal / failed {tally.failed})")  # fmt: skip
            _statements_import(cycle=cycle, adapter=adapter, admin=admin, say=say)
        rec = payments.cycle_reconcile(acting_user=supervisor, cycle=cycle)
        say(f"    rekonsiliasi / reconciliation: {rec.matched:,} cocok / matched, "
            f"{rec.unexplained} selisih / differences")  # fmt: skip
        try:
            cycle = payments.cycle_distribute(acting_user=supervisor, cycle=cycle)
        except TepatError as exc:  # e.g. a payment still open: said, the cycle stays approved
            say(f"    belum dapat disalurkan / not distributed yet: {exc.message}")
    if cycle.state == CycleState.DISTRIBUTED:
        cycle = payments.cycle_close(acting_user=supervisor, cycle=cycle)
        say("    tahap tersalurkan dan ditutup / cycle distributed and closed")
    paid = Payment.objects.filter(cycle=cycle, state=payments.P.PAID)
    return PaidCycle(cycle, cycle.state, paid=paid.count(),
                     paid_amount=sum(paid.values_list("amount", flat=True)))  # fmt: skip


def _statements_import(*, cycle: Any, adapter: Any, admin: Any, say: Say) -> None:
    """Each provider's signed statement of the days its payments were executed, fetched from the
    simulator and imported by the admin (statements are national)."""
    from tepat.payments import services as payments
    from tepat.payments.models import Payment

    providers = sorted(set(Payment.objects.filter(cycle=cycle).values_list("provider", flat=True)))
    today = dt.datetime.now(dt.UTC).date()
    days = [(today - dt.timedelta(days=d)).isoformat() for d in (1, 0)]
    lines = 0
    for provider in providers:
        for day in days:
            try:
                data = adapter.fetch_statement(provider, day)
            except OSError:  # 404: nothing executed for that provider that day
                continue
            statement = payments.statement_import(
                acting_user=admin, provider=provider, file_name=f"{provider}-{day}.json",
                data=data, adapter=adapter,
            )  # fmt: skip
            lines += statement.items.count()
    say(f"    rekening koran bertanda tangan diimpor / signed statements imported: {lines:,} baris")


def recipient_example(*, synth_dir: Path, cycle: Any) -> tuple[str, str] | None:
    """(NIK, name) of one head of household the cycle paid, for the citizen's status check at
    /cek/. Synthetic people only: the NIK is read back from the synthetic registry file (the
    database holds it encrypted, with a blind index this matches against)."""
    import csv

    from tepat.core import crypto
    from tepat.payments import services as payments
    from tepat.payments.models import Payment
    from tepat.registry.models import Person

    persons = synth_dir / "registry" / "persons.csv"
    if cycle is None or not persons.is_file():
        return None
    paid = Payment.objects.filter(cycle=cycle, state=payments.P.PAID)
    heads = dict(
        Person.objects.filter(
            public_id__in=list(paid.values_list("beneficiary_ref", flat=True)[:200])
        ).values_list("nik_index", "full_name")
    )
    with persons.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row.get("relationship") != "head":
                continue
            name = heads.get(crypto.blind_index(row["nik"], purpose="nik"))
            if name is not None:
                return row["nik"], name
    return None


# --- the transparency log and open data ----------------------------------------------------


def ledger_and_opendata(*, say: Say) -> tuple[int, Any]:
    """Sequence every pending entry into the log (a signed checkpoint published), refresh the
    public aggregates and export today's open data once. Returns (log size, the release)."""
    from tepat.ledger.services import ledger_sequence
    from tepat.transparency import services as transparency
    from tepat.transparency.models import OpenDataRelease

    size = 0
    while True:
        result = ledger_sequence(max_batch=5000)
        size = result.size
        if not result.count:
            break
    say(
        f"    log transparansi / transparency log: {size:,} entri / entries, checkpoint ditandatangani"
    )
    run = transparency.aggregates_refresh()
    say(f"    dasbor publik / public dashboard: {run.cells:,} sel / cells")
    release = OpenDataRelease.objects.order_by("-created_at").first()
    if release is None:
        release = transparency.opendata_export()
        say(f"    data terbuka diekspor / open data exported: {release.directory}")
    else:
        say(f"    data terbuka sudah ada / open data already exported: {release.directory}")
    return size, release
