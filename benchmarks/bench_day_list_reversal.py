#!/usr/bin/env python3
"""Reversing a proxy's NIK from a stolen offline day's list, before and after issue 17.

    .venv/bin/python benchmarks/bench_day_list_reversal.py [--iterations 100000] [--sample 100]
        [--browser] [--list-size 300] [--seed 7]

The day's list that a field phone keeps offline holds, for every voucher, a check of the
beneficiary's KKS number and of each registered proxy's ID number (a NIK). Before, the check was
SHA-256("<voucher id>:<number>"); now it is PBKDF2-HMAC-SHA256 over the same text with a salt
drawn for each download and --iterations rounds (tepat.verification.services.card_check).

The attacker holds one list entry (voucher id, check, the village) and enumerates NIKs the way
they are made: the village's district (6 digits) + birth date DDMMYY (day + 40 for women) +
serial 0001 (almost every serial is 0001), for every adult birth date (17 to 80 years old)
and both sexes. The target is drawn at random among them (--seed).

Figures, in CPU seconds of one core (the machine may be shared):
* before: the whole search, run;
* after: the search among the candidates of the target's birth year (an attacker who knows the
  year), run; the cost per guess; the whole search, projected from the cost per guess;
* one GPU, estimated (not measured here) from published hashcat benchmarks of an NVIDIA A100
  PCIe 40GB (Chick3nman, hashcat 6.1.1): SHA2-256 9.36 GH/s, PBKDF2-HMAC-SHA256 3.6 MH/s at 999
  rounds (3.6e9 rounds/s);
* the server's cost to build a list of --list-size entries (threads, wall time);
* with --browser: one check in Chromium's WebCrypto (what the field phone runs per handover),
  median of 7, on this machine's CPU (a field phone is slower: see docs).
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import hashlib
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK = time.process_time
GPU_SHA256_PER_S = 9.36e9  # A100 PCIe 40GB, hashcat mode 1400, one device
GPU_PBKDF2_ROUNDS_PER_S = 3.6e6 * 999  # A100 PCIe 40GB, hashcat mode 10900, one device


def candidates(district: str, today: dt.date) -> list[str]:
    """Every NIK of an adult (17 to 80) of `district` with serial 0001."""
    out = []
    for year in range(today.year - 80, today.year - 16):
        for month in range(1, 13):
            for day in range(1, calendar.monthrange(year, month)[1] + 1):
                for female in (False, True):
                    out.append(f"{district}{day + 40 * female:02d}{month:02d}{year % 100:02d}0001")
    return out


def old_check(voucher: str, nik: str) -> str:
    return hashlib.sha256(f"{voucher}:{nik}".encode()).hexdigest()


def search(
    check: str, voucher: str, pool: list[str], derive: Callable[[str, str], str]
) -> tuple[str | None, float, int]:
    start = CLOCK()
    for tried, nik in enumerate(pool, 1):
        if derive(voucher, nik) == check:
            return nik, CLOCK() - start, tried
    return None, CLOCK() - start, len(pool)


def fmt(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


BROWSER_JS = """async ([text, n]) => {
  const enc = new TextEncoder();
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const once = async () => {
    const key = await crypto.subtle.importKey("raw", enc.encode(text), "PBKDF2", false, ["deriveBits"]);
    const t = performance.now();
    await crypto.subtle.deriveBits({name: "PBKDF2", hash: "SHA-256", salt, iterations: n}, key, 128);
    return performance.now() - t;
  };
  await once();
  const times = [];
  for (let i = 0; i < 7; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return times[3];
}"""


def browser_check_ms(iterations: int) -> float:
    """One field check in Chromium's WebCrypto, median of 7 (a secure context: localhost)."""
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=os.environ.get("TEPAT_CHROMIUM", "/usr/bin/chromium"),
                args=["--headless=new", "--no-sandbox"],
            )
            page = browser.new_page()
            page.goto(f"http://localhost:{server.server_address[1]}/")
            ms = float(page.evaluate(BROWSER_JS, ["a7kq3mzx9pwr2tfe:3273014508790001", iterations]))
            browser.close()
            return ms
    finally:
        server.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=None, help="default: Tepat's setting")
    ap.add_argument("--sample", type=int, default=100, help="guesses timed for the projection")
    ap.add_argument("--list-size", type=int, default=300)
    ap.add_argument("--browser", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()

    sys.path.insert(0, str(ROOT / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_VAR_DIR", tempfile.mkdtemp(prefix="tepat-bench-"))
    import django

    django.setup()
    from tepat.verification import services

    iterations = a.iterations or services.day_list_kdf_iterations()
    kdf = services.DayListKdf(os.urandom(16), iterations)

    def new_check(voucher: str, nik: str) -> str:
        return services.card_check(voucher, nik, kdf=kdf)

    rng = random.Random(a.seed)
    today = dt.date(2026, 6, 1)
    pool = candidates("327301", today)
    target = rng.choice(pool)
    voucher = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(16))
    rng.shuffle(pool)  # the attacker does not know where in the space the target sits

    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
          f"Python {platform.python_version()}")  # fmt: skip
    print(f"# candidates: {len(pool):,} adult NIKs of one district (serial 0001)")
    print(f"# after: PBKDF2-HMAC-SHA256, {iterations:,} rounds, 16-byte salt per list")

    found, before_s, tried = search(old_check(voucher, target), voucher, pool, old_check)
    assert found == target
    whole_before = before_s * len(pool) / tried
    print(f"before, SHA-256: found after {tried:,} guesses in {fmt(before_s)} "
          f"(whole space {fmt(whole_before)})")  # fmt: skip

    check = new_check(voucher, target)
    year = target[10:12]
    same_year = [n for n in pool if n[10:12] == year]
    found, year_s, tried = search(check, voucher, same_year, new_check)
    assert found == target
    sample = pool[: a.sample]
    start = CLOCK()
    for nik in sample:
        new_check(voucher, nik)
    per_guess = (CLOCK() - start) / len(sample)
    whole_after = per_guess * len(pool)
    print(f"after, knowing the birth year ({len(same_year)} candidates): found after {tried} "
          f"guesses in {fmt(year_s)}")  # fmt: skip
    print(f"after: {per_guess * 1000:.1f} ms per guess; whole space {fmt(whole_after)}, "
          f"half on average {fmt(whole_after / 2)} (projected, one core)")  # fmt: skip
    print(f"ratio after/before, whole space: {whole_after / whole_before:,.0f}x")
    print(f"one GPU (estimated, A100): before {fmt(len(pool) / GPU_SHA256_PER_S)}, after "
          f"{fmt(len(pool) * iterations / GPU_PBKDF2_ROUNDS_PER_S)} for the whole space")  # fmt: skip

    pairs = [(f"v{i:05d}", f"{1000000000 + i}") for i in range(a.list_size)]
    start_wall, start_cpu = time.perf_counter(), CLOCK()
    services.card_checks(pairs, kdf=kdf)
    print(f"server: a list of {a.list_size} checks: {fmt(CLOCK() - start_cpu)} CPU, "
          f"{fmt(time.perf_counter() - start_wall)} wall on {min(8, os.cpu_count() or 1)} "
          "threads")  # fmt: skip

    if a.browser:
        ms = browser_check_ms(iterations)
        print(f"browser (Chromium WebCrypto, this CPU): one check {ms:.1f} ms")


if __name__ == "__main__":
    main()
