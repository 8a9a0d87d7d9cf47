"""Project URLs plus the ledger API router, for tests run before the lead registers the router
in tepat/config/api.py (after that, the project's own API is used unchanged)."""

from __future__ import annotations

from django.urls import path
from ninja import NinjaAPI

from tepat.config.api import api as project_api
from tepat.config.urls import urlpatterns as project_urlpatterns
from tepat.core.errors import TepatError
from tepat.ledger.api import router

if any(prefix.strip("/") == "ledger" for prefix, _ in project_api._routers):
    urlpatterns = list(project_urlpatterns)
else:
    test_api = NinjaAPI(title="ledger test", urls_namespace="ledger_test_api")

    @test_api.exception_handler(TepatError)
    def _tepat_error(request, exc):
        return test_api.create_response(request, exc.as_dict(), status=exc.http_status)

    test_api.add_router("/ledger", router)
    urlpatterns = [path("api/", test_api.urls), *project_urlpatterns]
