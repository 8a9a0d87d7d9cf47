#!/usr/bin/env python3
"""Write the API's OpenAPI schema to docs/openapi.json (reviewed in every change to the API).

    .venv/bin/python scripts/export_openapi.py
tests/test_openapi_schema.py fails while the committed file differs from the code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def current_schema() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    os.environ.setdefault("TEPAT_DEV", "true")  # this machine: generated keys, plain HTTP
    import django

    django.setup()
    from tepat.config.api import api

    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    TARGET.write_text(current_schema(), encoding="utf-8")
    print(f"wrote {TARGET}")
