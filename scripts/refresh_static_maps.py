#!/usr/bin/env python3
"""Refresh the vendored map library (Leaflet) from the npm registry.

Users never need Node.js: a maintainer with npm on the PATH runs this script, which packs the
pinned versions into a temporary directory and copies only the built files the transparency
dashboard serves into src/tepat/static/vendor/leaflet/, with its licence and a VERSIONS.md (the
shared vendor/VERSIONS.md belongs to scripts/refresh_static.py). The dashboard's chart is SVG
drawn on the server (transparency/views.py): no chart library is vendored.

    python scripts/refresh_static_maps.py [--leaflet 1.9.4]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "tepat" / "static" / "vendor"
LEAFLET_VERSION = "1.9.4"

_SOURCEMAP_RE = re.compile(rb"\n?(/\*# sourceMappingURL=[^*]*\*/|//# sourceMappingURL=\S+)\s*$")


def _pack(spec: str, workdir: Path) -> Path:
    """`npm pack` one package@version and return its unpacked `package/` directory."""
    name = spec.rsplit("@", 1)[0]
    out = workdir / name.replace("@", "").replace("/", "-")
    out.mkdir(parents=True)
    subprocess.run(["npm", "pack", spec, "--silent"], cwd=out, check=True)
    tgz = next(out.glob("*.tgz"))
    with tarfile.open(tgz) as tar:
        tar.extractall(out, filter="data")
    return out / "package"


def _copy(src: Path, dest: Path) -> None:
    """Copy a built file without its source-map comment (the maps are not shipped)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    if src.suffix in {".js", ".css"}:
        data = _SOURCEMAP_RE.sub(b"\n", data)
    dest.write_bytes(data)


def _licence(package: Path) -> Path:
    for name in ("LICENSE", "LICENSE.md", "LICENSE.txt", "license.md"):
        if (package / name).exists():
            return package / name
    raise SystemExit(f"no licence file in {package}")


def _write_versions(folder: Path, name: str, version: str, licence: str) -> None:
    lines = [
        f"# {name} {version}",
        "",
        "Written by `scripts/refresh_static_maps.py` from the npm registry; do not edit by hand.",
        f"Licence: {licence} (see LICENSE in this folder).",
        "",
        "## Files (sha256, first 16 hex digits)",
        "",
    ]
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "VERSIONS.md":
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            lines.append(f"- `{path.relative_to(folder)}` {digest}")
    (folder / "VERSIONS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def vendor_leaflet(version: str, workdir: Path) -> None:
    package = _pack(f"leaflet@{version}", workdir)
    dest = VENDOR / "leaflet"
    shutil.rmtree(dest, ignore_errors=True)
    _copy(package / "dist" / "leaflet.js", dest / "leaflet.js")
    _copy(package / "dist" / "leaflet.css", dest / "leaflet.css")
    for image in sorted((package / "dist" / "images").glob("*.png")):
        _copy(image, dest / "images" / image.name)
    shutil.copy(_licence(package), dest / "LICENSE")
    _write_versions(dest, "leaflet", version, "BSD-2-Clause")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaflet", default=LEAFLET_VERSION)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vendor_leaflet(args.leaflet, Path(tmp))
    print(f"vendored leaflet {args.leaflet} into {VENDOR}")


if __name__ == "__main__":
    main()
