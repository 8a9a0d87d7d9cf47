"""Face verification on CPU (optional extra `face`): time per check, and false accept / false
reject rates on real photos shipped in scikit-image, at several thresholds.

Genuine pairs: every pair among the astronaut photo and 10 transformed copies (mirrored, darker,
brighter, gamma, rotated, half size, noisy, cropped, grey). Impostor pairs: each of those against
each LFW face in scikit-image's lfw_subset that dlib detects (25x25 photos, enlarged: low quality,
which makes them harder, not easier, to tell apart). Baseline in the same run: face detection
alone, the part of a check that does not depend on the model.

    .venv/bin/python benchmarks/bench_verification_face.py
"""

from __future__ import annotations

import itertools
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    import django

    django.setup()
    import numpy as np
    from tests.verification.faces import astronaut_variants, other_faces

    from tepat.verification import face

    if not face.available():
        raise SystemExit("dlib is absent: pip install -e '.[face]'")
    detector = face._models()[0]
    photos = astronaut_variants()
    face.descriptor(photos["original"])  # load the models before timing
    det_ms, full_ms, genuine = [], [], {}
    for name, img in photos.items():
        t = time.perf_counter()
        detector(np.ascontiguousarray(img), 1)
        det_ms.append((time.perf_counter() - t) * 1e3)
        t = time.perf_counter()
        genuine[name] = face.descriptor(img)
        full_ms.append((time.perf_counter() - t) * 1e3)
    others = [d for d in (face.descriptor(img) for img in other_faces()) if d is not None]
    g = [face.distance(a, b) for a, b in itertools.combinations(list(genuine.values()), 2)]
    imp = [face.distance(a, b) for a in genuine.values() for b in others]
    print(f"baseline: face detection alone, per 512x512 photo: {statistics.median(det_ms):.0f} ms")
    print(f"full check (detect + landmarks + descriptor): {statistics.median(full_ms):.0f} ms "
          f"({statistics.median(full_ms) / statistics.median(det_ms):.2f}x baseline)")  # fmt: skip
    print(f"genuine pairs {len(g)}: max distance {max(g):.3f}; impostor pairs {len(imp)} "
          f"({len(others)} LFW faces detected of 100): min distance {min(imp):.3f}")  # fmt: skip
    for th in (0.4, 0.5, 0.6):
        frr = sum(d > th for d in g) / len(g)
        far = sum(d <= th for d in imp) / len(imp)
        print(f"threshold {th}: false reject {frr:.2%}, false accept {far:.2%}")


if __name__ == "__main__":
    main()
