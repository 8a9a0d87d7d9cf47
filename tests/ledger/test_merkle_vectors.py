"""Every transparency-dev Merkle vector (happy paths and each corrupted case) in ../shared."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tepat.ledger import merkle

VECTORS = Path(__file__).resolve().parents[3] / "shared" / "specs" / "tlog-vectors" / "testdata"


def _files(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _b(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b(v) for v in values or []]


def _outcome(check) -> bool:
    try:
        check()
    except merkle.ProofError:
        return False
    return True


pytestmark = pytest.mark.skipif(not VECTORS.exists(), reason="../shared vectors are absent")


@pytest.mark.parametrize("path", _files("inclusion"), ids=_id)
def test_inclusion_vector_is_judged_as_expected(path: Path) -> None:
    v = _load(path)
    ok = _outcome(
        lambda: merkle.verify_inclusion(
            v["leafIdx"], v["treeSize"], _b(v["leafHash"]), _proof(v["proof"]), _b(v["root"])
        )
    )
    assert ok is not v["wantErr"], v["desc"]


@pytest.mark.parametrize("path", _files("consistency"), ids=_id)
def test_consistency_vector_is_judged_as_expected(path: Path) -> None:
    v = _load(path)
    ok = _outcome(
        lambda: merkle.verify_consistency(
            v["size1"], v["size2"], _b(v["root1"]), _b(v["root2"]), _proof(v["proof"])
        )
    )
    assert ok is not v["wantErr"], v["desc"]


@pytest.mark.parametrize("path", _files("subtreeinclusion"), ids=_id)
def test_subtree_inclusion_vector_is_judged_as_expected(path: Path) -> None:
    v = _load(path)
    ok = _outcome(
        lambda: merkle.verify_subtree_inclusion(
            v["leafIdx"], v["start"], v["end"], _b(v["leafHash"]), _b(v["root"]), _proof(v["proof"])
        )
    )
    assert ok is not v["wantErr"], v["desc"]


@pytest.mark.parametrize("path", _files("subtreeconsistency"), ids=_id)
def test_subtree_consistency_vector_is_judged_as_expected(path: Path) -> None:
    v = _load(path)
    ok = _outcome(
        lambda: merkle.verify_subtree_consistency(
            v["start"], v["end"], v["size"], _b(v["root1"]), _b(v["root2"]), _proof(v["proof"])
        )
    )
    assert ok is not v["wantErr"], v["desc"]


def test_every_vector_directory_is_covered() -> None:
    kinds = {p.name for p in VECTORS.iterdir() if p.is_dir()}
    assert kinds == {"inclusion", "consistency", "subtreeinclusion", "subtreeconsistency"}
    assert sum(len(_files(k)) for k in kinds) == len(list(VECTORS.rglob("*.json")))
