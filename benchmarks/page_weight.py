#!/usr/bin/env python3
"""Page weight of staff and citizen pages: the HTML and the CSS, scripts and other files (icons,
images) it loads, uncompressed and gzipped, against the budgets of issue 20 (a staff page
<= 150 KiB, a citizen page <= 50 KiB), and against a baseline measured in the same run: the same
page in the staff shell as it was at git rev d6c12f2 (USWDS's CSS and JS), with that rev's
assets read from git.

    TEPAT_VAR_DIR=var/bench .venv/bin/python benchmarks/page_weight.py [--baseline-rev REV]

Fonts and images a stylesheet names in url() are fetched by a browser only when used; the
`css refs` column gives their total as an upper bound (USWDS's stylesheet names many).
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITIZEN_PAGES = ["/", "/cek/", "/pengaduan/", "/tentang/"]
STAFF_PAGES = [
    "/accounts/masuk/",
    "/registry/",
    "/integrasi/",
    "/targeting/",
    "/program/",
    "/penyaluran/gagal/",
    "/pemantauan/",
    "/pengaduan/operator/",
    "/privasi/permintaan/",
    "/privasi/catatan/",
    "/transparansi/",
]
STAFF_BUDGET = 150 * 1024
CITIZEN_BUDGET = 50 * 1024
REF = re.compile(rb'<(?:link|script|img)\b[^>]*?(?:href|src)="(/static/[^"?#]+)"')


def git_show(rev: str, path: str) -> bytes | None:
    done = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def kind_of(path: str) -> str:
    if path.endswith(".css"):
        return "css"
    if path.endswith(".js"):
        return "js"
    return "other"


def weigh(html: bytes, read: Callable[[str], bytes | None]) -> dict[str, int]:
    sizes = {"html": len(html), "css": 0, "js": 0, "other": 0, "gzip": 0, "css refs": 0}
    sizes["gzip"] = len(gzip.compress(html))
    for ref in dict.fromkeys(REF.findall(html)):
        name = ref.decode().removeprefix("/static/")
        body = read(name)
        if body is None:
            continue
        kind = kind_of(name)
        sizes[kind] += len(body)
        sizes["gzip"] += len(gzip.compress(body))
        if kind == "css":
            for url in re.findall(rb"url\(([^)]+)\)", body):
                target = url.strip(b"'\"").decode()
                if target.startswith(("data:", "http", "#")):
                    continue
                asset = read(os.path.normpath(str(Path(name).parent / target.split("?")[0])))
                sizes["css refs"] += len(asset or b"")
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-rev", default="d6c12f2")
    parser.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="PATH",
        help="another staff-shell page to weigh, e.g. /transparansi/?wilayah=32 on a database "
        "with published data (TEPAT_VAR_DIR of a `tepat demo`)",
    )
    args = parser.parse_args()

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import override_settings

    from tepat.accounts.models import User
    from tepat.accounts.views import SESSION_VERIFIED

    call_command("migrate", verbosity=0)
    user = User.objects.filter(username="bench.pages").first()
    if user is None:
        user = User.objects.create_user(username="bench.pages", password=None, role="admin")
    staff = Client()
    staff.force_login(user)
    session = staff.session
    session[SESSION_VERIFIED] = True
    session.save()

    def read_now(name: str) -> bytes | None:
        found = finders.find(name)
        return Path(str(found)).read_bytes() if found else None

    def read_then(name: str) -> bytes | None:
        for base in ("src/tepat/static/", "src/tepat/portal/static/"):
            body = git_show(args.baseline_rev, base + name)
            if body is not None:
                return body
        return read_now(name)

    old_base = git_show(args.baseline_rev, "src/tepat/templates/base.html")
    if old_base is None:
        raise SystemExit(f"no base.html at {args.baseline_rev}")
    old_dir = Path(tempfile.mkdtemp(prefix="tepat-page-weight-"))
    (old_dir / "base.html").write_bytes(old_base)
    old_templates = [{**settings.TEMPLATES[0], "DIRS": [old_dir, *settings.TEMPLATES[0]["DIRS"]]}]

    def fetch(path: str) -> bytes:
        client = Client() if path in CITIZEN_PAGES or path == "/accounts/masuk/" else staff
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: HTTP {response.status_code}")
        return response.content

    columns = ("html", "css", "js", "other", "css refs", "gzip")
    print(f"baseline: the same page with base.html and static files at {args.baseline_rev}")
    print(f"{'page':<22}{'':>9}" + "".join(f"{c:>10}" for c in columns) + f"{'total':>10}  budget")
    for path in [*CITIZEN_PAGES, *STAFF_PAGES, *args.extra]:
        budget = CITIZEN_BUDGET if path in CITIZEN_PAGES else STAFF_BUDGET
        now = weigh(fetch(path), read_now)
        rows = [("now", now)]
        if path not in CITIZEN_PAGES:  # citizen pages never used base.html
            with override_settings(TEMPLATES=old_templates):
                rows.append((args.baseline_rev, weigh(fetch(path), read_then)))
        for label, sizes in rows:
            total = sizes["html"] + sizes["css"] + sizes["js"] + sizes["other"]
            verdict = "ok" if total <= budget else "OVER"
            print(
                f"{path if label == 'now' else '':<22}{label:>9}"
                + "".join(f"{sizes[c] / 1024:9.1f}K" for c in columns)
                + f"{total / 1024:9.1f}K  {verdict} ({budget // 1024} KiB)"
            )
        if len(rows) == 2:
            before, after = rows[1][1], rows[0][1]
            ratio = sum(before[c] for c in columns[:4]) / max(1, sum(after[c] for c in columns[:4]))
            print(f"{'':<22}{'ratio':>9}  baseline / now = {ratio:.1f}x")


if __name__ == "__main__":
    main()
