#!/usr/bin/env python3
"""Refresh the vendored front-end files (USWDS, htmx, the QR decoder) from the npm registry.

Users never need Node.js: a maintainer with npm on the PATH runs this script, which packs the
pinned package versions into a temporary directory and copies only the built files Tepat serves
into src/tepat/static/vendor/<package>/, with each package's licence and a VERSIONS.md.

USWDS ships ~20 MB of fonts and images; we keep the minified CSS and JS plus exactly the fonts
and images that the minified CSS references (scanned from its `url(...)`s), so the vendored tree
stays small and a new USWDS release that references a new file picks it up automatically.

The field app's QR decoder for browsers without a native BarcodeDetector is the
`barcode-detector` ponyfill (the same API over ZXing-C++ compiled to WebAssembly): its IIFE build
plus the `zxing_reader.wasm` of exactly the zxing-wasm version it pins, checked against the
SHA-256 the ponyfill itself carries (a mismatched .wasm would fail at run time, on a phone).

    python scripts/refresh_static.py [--uswds 3.14.0] [--htmx 2.0.8] [--barcode-detector 3.2.2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "tepat" / "static" / "vendor"
USWDS_VERSION = "3.14.0"
# django-htmx 1.29 supports htmx 2.0.x.
HTMX_VERSION = "2.0.8"
# Maintained (Sec-ant/barcode-detector); its zxing-wasm dependency is pinned exactly by it.
BARCODE_DETECTOR_VERSION = "3.2.2"

# Referenced by the stylesheet but not used by Tepat: the .usa-hero stock photograph (tepat.css
# drops the background, so nothing asks for it).
EXCLUDED = frozenset({"../img/hero.jpg"})

_URL_RE = re.compile(r"url\(([^)]+)\)")
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


def _copy_minified(src: Path, dest: Path) -> None:
    """Copy a minified file without its source-map comment (we do not ship the maps)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(_SOURCEMAP_RE.sub(b"\n", src.read_bytes()))


def _css_references(css: str) -> list[str]:
    refs: set[str] = set()
    for raw in _URL_RE.findall(css):
        ref = raw.strip().strip("'\"")
        if not ref or ref.startswith(("data:", "http:", "https:", "#")):
            continue
        refs.add(ref.split("?", 1)[0].split("#", 1)[0])
    return sorted(refs)


def _vendor_uswds(pkg: Path, version: str) -> list[str]:
    dest = VENDOR / "uswds"
    shutil.rmtree(dest, ignore_errors=True)
    dist = pkg / "dist"
    css_path = dist / "css" / "uswds.min.css"
    _copy_minified(css_path, dest / "css" / "uswds.min.css")
    for js in ("uswds.min.js", "uswds-init.min.js"):
        _copy_minified(dist / "js" / js, dest / "js" / js)
    copied = ["css/uswds.min.css", "js/uswds.min.js", "js/uswds-init.min.js"]
    for ref in _css_references(css_path.read_text(encoding="utf-8")):
        if ref in EXCLUDED:
            continue
        source = (dist / "css" / ref).resolve()
        if not source.is_relative_to(dist.resolve()) or not source.is_file():
            raise SystemExit(f"uswds.min.css references {ref!r}, which is not in the package")
        relative = source.relative_to(dist.resolve())
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest / relative)
        copied.append(str(relative))
    shutil.copyfile(pkg / "LICENSE.md", dest / "LICENSE.md")
    return copied


def _vendor_htmx(pkg: Path, version: str) -> list[str]:
    dest = VENDOR / "htmx"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    shutil.copyfile(pkg / "dist" / "htmx.min.js", dest / "htmx.min.js")
    shutil.copyfile(pkg / "LICENSE", dest / "LICENSE")
    return ["htmx.min.js"]


def _vendor_barcode_detector(pkg: Path, workdir: Path) -> tuple[list[str], str]:
    """The ponyfill (window.BarcodeDetectionAPI, no global patched) and its ZXing .wasm."""
    meta = json.loads((pkg / "package.json").read_text(encoding="utf-8"))
    zxing_version = meta["dependencies"]["zxing-wasm"]
    if not re.fullmatch(r"\d+\.\d+\.\d+", zxing_version):
        raise SystemExit(f"barcode-detector pins zxing-wasm {zxing_version!r}, not one version")
    zxing = _pack(f"zxing-wasm@{zxing_version}", workdir)
    dest = VENDOR / "barcode-detector"
    shutil.rmtree(dest, ignore_errors=True)
    _copy_minified(pkg / "dist" / "iife" / "ponyfill.js", dest / "ponyfill.js")
    wasm = zxing / "dist" / "reader" / "zxing_reader.wasm"
    # The ponyfill carries the SHA-256 of the .wasm it was built against (ZXING_WASM_SHA256).
    digest = hashlib.sha256(wasm.read_bytes()).hexdigest()
    if f"`{digest}`".encode() not in (dest / "ponyfill.js").read_bytes():
        raise SystemExit("zxing_reader.wasm does not match the SHA-256 the ponyfill expects")
    shutil.copyfile(wasm, dest / "zxing_reader.wasm")
    shutil.copyfile(pkg / "LICENSE", dest / "LICENSE")
    shutil.copyfile(zxing / "LICENSE", dest / "LICENSE.zxing-wasm")
    return ["ponyfill.js", "zxing_reader.wasm"], zxing_version


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uswds", default=USWDS_VERSION)
    parser.add_argument("--htmx", default=HTMX_VERSION)
    parser.add_argument("--barcode-detector", default=BARCODE_DETECTOR_VERSION)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        uswds_files = _vendor_uswds(_pack(f"@uswds/uswds@{args.uswds}", Path(tmp)), args.uswds)
        htmx_files = _vendor_htmx(_pack(f"htmx.org@{args.htmx}", Path(tmp)), args.htmx)
        bd_pkg = _pack(f"barcode-detector@{args.barcode_detector}", Path(tmp))
        bd_files, zxing_version = _vendor_barcode_detector(bd_pkg, Path(tmp))
    lines = [
        "# Vendored front-end files",
        "",
        "Written by `scripts/refresh_static.py` from the npm registry; do not edit by hand.",
        "Minified files are copied without their source-map comment (maps are not shipped).",
        "",
        "| Package | Version | Licence | Files |",
        "| --- | --- | --- | --- |",
        f"| @uswds/uswds | {args.uswds} | public domain (CC0); fonts SIL OFL 1.1; icons Apache 2.0"
        f" — see uswds/LICENSE.md | {len(uswds_files)} |",
        f"| htmx.org | {args.htmx} | Zero-Clause BSD — see htmx/LICENSE | {len(htmx_files)} |",
        f"| barcode-detector (+ zxing-wasm {zxing_version}) | {args.barcode_detector} | MIT — see"
        f" barcode-detector/LICENSE and LICENSE.zxing-wasm | {len(bd_files)} |",
        "",
        "## Files (sha256, first 16 hex digits)",
        "",
    ]
    vendored = (("uswds", uswds_files), ("htmx", htmx_files), ("barcode-detector", bd_files))
    for package, files in vendored:
        for name in files:
            lines.append(f"- `{package}/{name}` {_digest(VENDOR / package / name)}")
    (VENDOR / "VERSIONS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in VENDOR.rglob("*") if p.is_file())
    print(
        f"vendored {sum(len(files) for _p, files in vendored)} files, {total / 1e6:.1f} MB, into {VENDOR}"
    )


if __name__ == "__main__":
    main()
