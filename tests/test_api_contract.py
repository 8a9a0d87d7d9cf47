"""The published API schema says what the server does: one schema per component name, request
bodies as the handlers validate them, every error in one documented shape, paging bounded."""

from __future__ import annotations

import typing
from collections import defaultdict
from typing import Any

import pydantic
import pytest

from tepat.config.api import api
from tepat.core.paging import MAX_OFFSET
from tepat.payments.services.resolve import RESOLUTIONS

ERROR_KEYS = {"code", "message", "field", "row", "problems"}


def _operations() -> list[tuple[str, Any]]:
    out = []
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for op in view.operations:
                out.append((bound.prefix + path, op))
    return out


def _models_in(annotation: Any, seen: set[Any]) -> None:
    """Every pydantic model an annotation refers to, recursively (list[X], X | None, dict)."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, seen)
        return
    for arg in typing.get_args(annotation):
        _models_in(arg, seen)


def _published_classes() -> dict[str, set[type]]:
    """Component name -> the classes published under it (ninja names a component by the class)."""
    seen: set[Any] = set()
    for _path, op in _operations():
        for model in op.models:  # ninja's parameter groups: their fields are the schemas
            for field in model.model_fields.values():
                _models_in(field.annotation, seen)
        for wrapper in op.response_models.values():
            if wrapper is not None and hasattr(wrapper, "model_fields"):
                _models_in(wrapper.model_fields["response"].annotation, seen)
    names: dict[str, set[type]] = defaultdict(set)
    for cls in seen:
        names[cls.__name__].add(cls)
    return names


def test_no_two_schemas_share_a_component_name():
    clashes = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in _published_classes().items()
        if len(classes) > 1
    }
    assert not clashes, f"one component name, several schemas (the last one wins): {clashes}"


def _published_path(prefix: str, path: str) -> str:
    full = "/api/" + "/".join(p for p in (prefix.strip("/"), path.strip("/")) if p)
    return full + "/" if path.endswith("/") else full


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _body_classes(op: Any) -> list[type[pydantic.BaseModel]]:
    out = []
    for model in op.models:
        if getattr(model, "__ninja_param_source__", "") == "body":
            for field in model.model_fields.values():
                ann = field.annotation
                if isinstance(ann, type) and issubclass(ann, pydantic.BaseModel):
                    out.append(ann)
    return out


def test_every_published_request_body_is_the_one_the_server_validates():
    schema = api.get_openapi_schema()
    wrong = []
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for op in view.operations:
                bodies = _body_classes(op)
                if len(bodies) != 1:
                    continue
                validated = set(bodies[0].model_json_schema()["properties"])
                full = _published_path(bound.prefix, path)
                for method in op.methods:
                    entry = schema["paths"].get(full, {}).get(method.lower())
                    assert entry, f"{method} {full} is not published"
                    body = entry["requestBody"]["content"]["application/json"]["schema"]
                    published = set(_resolve(schema, body).get("properties", {}))
                    if published != validated:
                        wrong.append(f"{method} {full}: published {published}, wants {validated}")
    assert not wrong, "\n".join(wrong)


def _query_names(op: Any) -> set[str]:
    names: set[str] = set()
    for model in op.models:
        if getattr(model, "__ninja_param_source__", "") != "query":
            continue
        for name, field in model.model_fields.items():
            ann = field.annotation
            if isinstance(ann, type) and issubclass(ann, pydantic.BaseModel):
                names |= {f.alias or n for n, f in ann.model_fields.items()}
            else:
                names.add(field.alias or name)
    return names


def test_every_published_query_is_the_one_the_server_reads():
    schema = api.get_openapi_schema()
    wrong = []
    for bound in api._get_bound_routers():
        for path, view in bound.path_operations.items():
            for op in view.operations:
                full = _published_path(bound.prefix, path)
                for method in op.methods:
                    entry = schema["paths"][full][method.lower()]
                    published = {
                        p["name"] for p in entry.get("parameters", []) if p["in"] == "query"
                    }
                    if published != _query_names(op):
                        wrong.append(f"{method} {full}: {published} != {_query_names(op)}")
    assert not wrong, "\n".join(wrong)


def test_resolving_a_dead_letter_is_published_as_action_and_reason():
    schema = api.get_openapi_schema()
    op = schema["paths"]["/api/payments/{payment_id}/resolve"]["post"]
    body = _resolve(schema, op["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["properties"]) == {"action", "reason"}
    assert tuple(body["properties"]["action"]["enum"]) == RESOLUTIONS


def test_import_runs_are_published_with_their_own_schema():
    schema = api.get_openapi_schema()
    page = schema["paths"]["/api/integration/import-runs"]["get"]["responses"][200]
    items = _resolve(schema, _resolve(schema, page["content"]["application/json"]["schema"]))
    run = _resolve(schema, items["properties"]["items"]["items"])
    assert {"file_name", "accepted_rows", "rejected_rows"} <= set(run["properties"])


def test_every_operation_documents_its_errors_in_the_one_shape():
    schema = api.get_openapi_schema()
    error = schema["components"]["schemas"]["ErrorOut"]
    assert set(error["properties"]) == ERROR_KEYS
    missing = []
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            codes = {str(c) for c in op["responses"]}
            needed = {"400", "404", "422"} | ({"401", "403"} if op.get("security") else set())
            if not needed <= codes:
                missing.append(f"{method.upper()} {path}: {sorted(needed - codes)}")
            for code in codes - {"200", "201", "202"}:
                content = (
                    {str(c): r for c, r in op["responses"].items()}[code]
                    .get("content", {})
                    .get("application/json", {})
                )
                ref = content.get("schema", {}).get("$ref", "")
                if int(code) >= 400 and not ref.endswith("/ErrorOut"):
                    missing.append(f"{method.upper()} {path} {code}: not ErrorOut ({ref})")
    assert not missing, "\n".join(missing)


# --- the server answers every error in the documented shape ----------------------------------


def _is_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    return body


@pytest.mark.parametrize(
    "path",
    [
        "/api/integration/review-pairs",
        "/api/integration/link-runs",
        "/api/integration/import-runs",
    ],
)
def test_an_offset_beyond_64_bits_is_a_422_naming_the_field(staff_client, admin_user, path):
    client = staff_client(admin_user)
    body = _is_error(client.get(path, {"offset": 2**63}), 422)
    assert body["code"] == "validation_failed"
    assert body["field"] == "offset"
    assert [p["field"] for p in body["problems"]] == ["offset"]
    assert client.get(path, {"offset": MAX_OFFSET}).status_code == 200


def test_a_body_that_does_not_match_the_schema_is_a_422_listing_every_problem(
    staff_client, admin_user
):
    client = staff_client(admin_user)
    response = client.post(
        "/api/payments/nope/resolve", {"action": "burn"}, content_type="application/json"
    )
    body = _is_error(response, 422)
    assert {p["field"] for p in body["problems"]} == {"action", "reason"}
    assert all(p["message"] for p in body["problems"])


def test_a_missing_log_in_is_a_401_in_the_shape(client, regions):
    body = _is_error(client.get("/api/registry/persons", {"name": "Asep"}), 401)
    assert body["code"] == "unauthenticated"
    assert " / " in body["message"]  # Indonesian / English


def test_a_failed_csrf_check_is_a_403_in_the_shape(bandung_operator, regions):
    from django.test import Client

    from .conftest import signed_in

    client = signed_in(Client(enforce_csrf_checks=True), bandung_operator)
    response = client.post(
        "/api/integration/review-pairs/x/decision",
        {"decision": "accept"},
        content_type="application/json",
    )
    body = _is_error(response, 403)
    assert body["code"] == "csrf_failed"


def test_an_unknown_record_is_a_404_in_the_shape(staff_client, admin_user):
    body = _is_error(staff_client(admin_user).get("/api/programs/cycles/nope"), 404)
    assert body["code"] == "not_found"


def test_a_method_the_path_lacks_is_a_405_in_the_shape(client, regions):
    response = client.delete("/api/regions/")
    body = _is_error(response, 405)
    assert body["code"] == "method_not_allowed"
    assert response["Allow"] == "GET"
