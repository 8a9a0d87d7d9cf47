"""Real face photos shipped inside scikit-image (no download) and transformed copies of them."""

from __future__ import annotations

from typing import Any

import numpy as np


def u8(x: Any) -> Any:
    return (np.clip(x, 0, 1) * 255).astype(np.uint8)


def astronaut_variants() -> dict[str, Any]:
    """The astronaut photo (Eileen Collins) and copies a field camera might produce."""
    from skimage import color, data, exposure, transform, util

    a = data.astronaut()
    return {
        "original": a,
        "mirrored": a[:, ::-1],
        "darker": u8(a / 255 * 0.6),
        "brighter": u8(a / 255 * 1.3),
        "gamma": u8(exposure.adjust_gamma(a / 255, 1.8)),
        "rotated_10": u8(transform.rotate(a, 10)),
        "rotated_-15": u8(transform.rotate(a, -15)),
        "half_size": u8(transform.rescale(a, 0.5, channel_axis=2)),
        "noisy": u8(util.random_noise(a, var=0.005, rng=1)),
        "cropped": a[20:400, 60:460],
        "grey": np.stack([u8(color.rgb2gray(a))] * 3, -1),
    }


def other_faces(n: int = 100) -> list[Any]:
    """Other people: LFW faces shipped with scikit-image (25x25), enlarged and padded."""
    from skimage import data, transform

    out = []
    for im in data.lfw_subset()[:n]:  # the first 100 of the 200 are faces
        big = np.pad(u8(transform.resize(im, (150, 150))), 50, constant_values=128)
        out.append(np.stack([big] * 3, -1))
    return out
