#!/usr/bin/env python3
"""Refresh the vendored Kemendagri region data from the npm package `idn-area-data`.

Users never need Node.js: this script (run by a maintainer, with npm on the PATH) packs the pinned
package version, converts its four CSV files into one compact gzip file under
src/tepat/regions/data/, and copies the licence. Data (c) idn-area-data contributors, ODbL 1.0.

    python scripts/refresh_region_data.py [--version 4.0.1]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

DEST = Path(__file__).resolve().parent.parent / "src" / "tepat" / "regions" / "data"
LEVELS = [
    ("provinces.csv", "province", None),
    ("regencies.csv", "regency", "province_code"),
    ("districts.csv", "district", "regency_code"),
    ("villages.csv", "village", "district_code"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="4.0.1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", f"idn-area-data@{args.version}", "--silent"], cwd=tmp, check=True
        )
        tgz = next(Path(tmp).glob("idn-area-data-*.tgz"))
        with tarfile.open(tgz) as tar:
            tar.extractall(tmp, filter="data")
        pkg = Path(tmp) / "package"
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["code", "dotted_code", "name", "level", "parent_code"])
        rows = 0
        for filename, level, parent_col in LEVELS:
            with (pkg / "data" / filename).open(encoding="utf-8") as fh:
                for rec in csv.DictReader(fh):
                    dotted = rec["code"].strip()
                    parent = rec[parent_col].replace(".", "") if parent_col else ""
                    writer.writerow(
                        [dotted.replace(".", ""), dotted, rec["name"].strip(), level, parent]
                    )
                    rows += 1
        DEST.mkdir(parents=True, exist_ok=True)
        # mtime=0 keeps the gzip byte-identical across refreshes of the same data.
        with gzip.GzipFile(DEST / "wilayah.csv.gz", "wb", mtime=0) as gz:
            gz.write(out.getvalue().encode("utf-8"))
        shutil.copy(pkg / "data" / "LICENSE.md", DEST / "LICENSE-ODbL.md")
        (DEST / "SOURCE.md").write_text(
            f"Kemendagri region codes from the npm package idn-area-data@{args.version}\n"
            "(https://github.com/fityannugroho/idn-area-data), data under the Open Database\n"
            "License (ODbL) 1.0; see LICENSE-ODbL.md. Refreshed by scripts/refresh_region_data.py.\n"
            f"{rows} rows.\n",
            encoding="utf-8",
        )
        print(f"wrote {rows} regions to {DEST / 'wilayah.csv.gz'}")


if __name__ == "__main__":
    main()
