"""The API schema is a reviewed artefact: this fails when code and docs/openapi.json disagree."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _exporter():
    spec = importlib.util.spec_from_file_location(
        "export_openapi", ROOT / "scripts" / "export_openapi.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_openapi_schema_matches_the_code():
    committed = (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8")
    current = _exporter().current_schema()
    assert json.loads(committed) == json.loads(current), (
        "The API changed: review it and run `.venv/bin/python scripts/export_openapi.py`"
    )


def test_every_registry_operation_requires_authentication():
    schema = json.loads(_exporter().current_schema())
    for path, operations in schema["paths"].items():
        if path.startswith("/api/registry"):
            for op in operations.values():
                assert op.get("security"), f"{path} is open to anonymous callers"
