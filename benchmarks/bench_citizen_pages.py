#!/usr/bin/env python3
"""Page weight of every citizen page: HTML + the CSS and scripts it loads (before images),
raw and gzipped, against the 100 KB budget; the staff sign-in page (the staff shell) as the baseline.

    TEPAT_VAR_DIR=var/test .venv/bin/python benchmarks/bench_citizen_pages.py
"""

from __future__ import annotations

import gzip
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    "/",
    "/tentang/",
    "/cek/",
    "/pengaduan/",
    "/pengaduan/usul-sanggah/",
    "/pengaduan/lacak/",
    "/luring/",
]
PAGES += ["/akun/masuk/"]
BASELINE = "/accounts/masuk/"


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.contrib.staticfiles import finders
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    client = Client()
    print(f"{'page':<28}{'html':>8}{'css+js':>9}{'total':>9}{'gzip':>8}  budget 100 KB")
    for path in [*PAGES, BASELINE]:
        html = client.get(path).content
        assets = b""
        for ref in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
            found = finders.find(ref.decode().removeprefix("/static/"))
            if found:
                assets += Path(str(found)).read_bytes()
        total = len(html) + len(assets)
        zipped = len(gzip.compress(html)) + len(gzip.compress(assets)) if assets else 0
        label = path + (" (baseline: staff shell)" if path == BASELINE else "")
        print(
            f"{label:<28}{len(html) / 1024:7.1f}K{len(assets) / 1024:8.1f}K"
            f"{total / 1024:8.1f}K{zipped / 1024:7.1f}K  {'ok' if total < 102400 else 'OVER'}"
        )


if __name__ == "__main__":
    main()
