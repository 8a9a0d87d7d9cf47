"""The one JSON API (django-ninja); each app contributes a router from its api.py."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.security import SessionAuth

from tepat.core.errors import TepatError

api = NinjaAPI(
    title="Tepat API",
    version="0.1.0",
    description=(
        "Social registry, targeting and disbursement. Every read of personal data is scoped to "
        "the caller's regions and audited. Errors share one shape: "
        '{"code": ..., "message": ..., "field": ..., "row": ...}.'
    ),
    auth=SessionAuth(),
    urls_namespace="api",
)


@api.exception_handler(TepatError)
def _tepat_error(request: HttpRequest, exc: TepatError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.http_status)


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
