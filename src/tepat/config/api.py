"""The one JSON API (django-ninja); each app contributes a router from its api.py.

Every error has one shape, ErrorOut `{code, message, field, row, problems}` (tepat.core.apischema),
whatever raised it, and every operation documents the error statuses it can answer with."""

from __future__ import annotations

import types
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import Operation, PathView
from ninja.parser import Parser
from ninja.security import SessionAuth

from tepat.core.apischema import ErrorOut, error_body
from tepat.core.errors import TepatError


def _without_nul(value: Any) -> Any:
    """The value with every NUL character taken out of its strings, at any depth."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    return value


class TextParser(Parser):
    """JSON and query/form values without NUL characters: PostgreSQL cannot store one in text,
    and a request carrying one (which the schema's `string` admits) would fail the database
    query (500) instead of being handled; taken out, the value is handled as the text it is."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return cast(dict[str, Any], _without_nul(super().parse_body(request)))

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        return cast(
            dict[str, Any], _without_nul(super().parse_querydict(data, list_fields, request))
        )


api = NinjaAPI(
    parser=TextParser(),
    title="Tepat API",
    version="0.1.0",
    description=(
        "Social registry, targeting and disbursement. Every read of personal data is scoped to "
        "the caller's regions and audited. Staff sign in through the web pages; the API uses "
        "that session, and a request that changes anything sends the `csrftoken` cookie's "
        "value in the `X-CSRFToken` header. Every error has one shape (ErrorOut): "
        '{"code": ..., "message": ..., "field": ..., "row": ..., "problems": [...]}, where '
        "`problems` lists each refused value with its field's dotted name (`offset`, "
        "`corrections.0.row`). A record outside your regions does not exist (404)."
    ),
    auth=SessionAuth(),
    urls_namespace="api",
    # No deep links: Swagger UI puts each operation's link inside the button that opens it, a
    # link nested in a button (axe-core's nested-interactive, WCAG 4.1.2).
    docs=Swagger(settings={"deepLinking": False}),
)

# Messages both languages at once (the API has no page language): "Indonesia / English".
_HTTP_ERRORS: dict[int, tuple[str, str]] = {
    401: ("unauthenticated", "Perlu masuk sebagai staf / sign in as staff first"),
    403: ("forbidden", "Akses ditolak / access denied"),
    404: ("not_found", "Tidak ditemukan / not found"),
    405: ("method_not_allowed", "Metode tidak didukung / method not allowed"),
    429: ("too_many_requests", "Terlalu banyak permintaan / too many requests"),
}
_CSRF = (
    "csrf_failed",
    "Pemeriksaan CSRF gagal: kirim nilai cookie csrftoken di header X-CSRFToken / CSRF check "
    "failed: send the csrftoken cookie's value in the X-CSRFToken header",
)


@api.exception_handler(TepatError)
def _tepat_error(request: HttpRequest, exc: TepatError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.http_status)


def _dotted(loc: Any) -> str:
    """ninja's error location ("body", <parameter name>, "corrections", 0, "row") as the field's
    dotted name within the request ("corrections.0.row"), as a service names a field it refuses:
    without where it travelled (body, query, form, path) and the handler's parameter name."""
    parts = [str(p) for p in (loc or ())]
    if parts and parts[0] in {"body", "query", "form", "path", "header", "cookie", "file"}:
        # ninja puts the handler's parameter (`body`, `params`, `page`...) second when a schema
        # groups the values; a lone parameter (`?region=`) has just ("query", "region").
        parts = parts[2:] if len(parts) >= 3 else parts[1:]
    return ".".join(parts) or "request"


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = []
    for err in exc.errors:
        field = _dotted(err.get("loc"))
        problems.append(
            {
                "field": field,
                "code": str(err.get("type", "invalid")),
                "message": str(err.get("msg", "")),
                "row": None,
                "severity": "error",
            }
        )
    first = problems[0]["field"] if problems else None
    summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    body = error_body(
        "validation_failed",
        f"Isian tidak sah / invalid input: {summary}",
        field=first,
        problems=problems,
    )
    return api.create_response(request, body, status=422)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    if status == 403 and "csrf" in str(exc).lower():
        code, message = _CSRF
    elif isinstance(exc, AuthenticationError) and status == 401:
        code, message = _HTTP_ERRORS[401]
    else:
        code, message = _HTTP_ERRORS.get(status, ("error", str(exc)))
    return api.create_response(request, error_body(code, message), status=status)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    code, message = _HTTP_ERRORS[404]
    return api.create_response(request, error_body(code, message), status=404)


def _not_allowed(self: PathView) -> HttpResponse:
    code, message = _HTTP_ERRORS[405]
    allowed = sorted({m for op in self.operations for m in op.methods})
    response = HttpResponse(
        api.renderer.render(None, error_body(code, message), response_status=405),  # type: ignore[arg-type]
        status=405,
        content_type=api.renderer.media_type,
    )
    response["Allow"] = ", ".join(allowed)
    return response


def _error_statuses(op: Operation) -> set[int]:
    """The error statuses an operation can answer with: a TepatError (400 by default, 404 for an
    unknown or out-of-scope record, 422 for refused values, which also covers a request that
    does not match the schema); with a log-in, 401 without it and 403 for a role that may not
    (or, when it changes something, a failed CSRF check) and 409 for a state that does not allow
    the change; 413 for an upload too large."""
    codes = {400, 404, 422}
    if op.auth_callbacks:
        codes |= {401, 403}
        if set(op.methods) & {"POST", "PUT", "PATCH", "DELETE"}:
            codes.add(409)
    if any(getattr(m, "__ninja_param_source__", "") == "file" for m in op.models):
        codes.add(413)
    return codes


def _files_not_empty(op: Operation) -> None:
    """Say in the schema that an uploaded file has at least one byte: Django's multipart parser
    drops an empty file part, so the server answers "required" for one."""
    names = [
        name
        for model in op.models
        if getattr(model, "__ninja_param_source__", "") == "file"
        for name in model.model_fields
    ]
    if not names:
        return
    props = {name: {"minLength": 1} for name in names}
    extra = dict(op.openapi_extra or {})
    body = extra.setdefault("requestBody", {}).setdefault("content", {})
    body.setdefault("multipart/form-data", {}).setdefault("schema", {})["properties"] = props
    op.openapi_extra = extra


def _document_errors() -> None:
    """Declare ErrorOut for every error status of every operation (keeping what a route
    declared itself), so the published schema names each status the server can answer."""
    for bound in api._get_bound_routers():  # the operations served (with the inherited auth)
        for path_view in bound.path_operations.values():
            path_view._not_allowed = types.MethodType(_not_allowed, path_view)  # type: ignore[method-assign]
            for op in path_view.operations:
                _files_not_empty(op)
                if set(op.response_models) == {200} and op.response_models[200] is None:
                    continue
                for status in sorted(_error_statuses(op)):
                    if status not in op.response_models:
                        op.response_models[status] = op._create_response_model(ErrorOut)


def _register_routers() -> None:
    from tepat.grievances.api import router as grievances_router
    from tepat.integration.api import router as integration_router
    from tepat.ledger.api import router as ledger_router
    from tepat.monitoring.api import router as monitoring_router
    from tepat.payments.api import router as payments_router
    from tepat.privacy.api import router as privacy_router
    from tepat.programs.api import router as programs_router
    from tepat.regions.api import router as regions_router
    from tepat.registry.api import router as registry_router
    from tepat.targeting.api import router as targeting_router
    from tepat.transparency.api import router as transparency_router
    from tepat.verification.api import router as verification_router

    api.add_router("/regions", regions_router)
    api.add_router("/registry", registry_router)
    api.add_router("/integration", integration_router)
    api.add_router("/targeting", targeting_router)
    api.add_router("/programs", programs_router)
    api.add_router("/payments", payments_router)
    api.add_router("/ledger", ledger_router)
    api.add_router("/transparency", transparency_router)
    api.add_router("/monitoring", monitoring_router)
    api.add_router("/grievances", grievances_router)
    api.add_router("/verification", verification_router)
    api.add_router("/privacy", privacy_router)


_register_routers()
_document_errors()
