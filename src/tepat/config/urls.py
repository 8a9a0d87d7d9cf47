from django.contrib import admin
from django.urls import include, path

from tepat.config.api import api

urlpatterns = [
    # The citizen pages first: the status check is the busiest path, and resolving it behind
    # sixteen other prefixes cost ~25 us a request. Every portal pattern is a whole path
    # (no include), none starting with another entry's prefix, so the order changes no match.
    path("", include("tepat.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
    path("accounts/", include("tepat.accounts.urls")),
    path("registry/", include("tepat.registry.urls")),
    path("integrasi/", include("tepat.integration.urls")),
    path("regions/", include("tepat.regions.urls")),
    path("targeting/", include("tepat.targeting.urls")),
    path("program/", include("tepat.programs.urls")),
    path("penyaluran/", include("tepat.payments.urls")),
    path("lapangan/", include("tepat.verification.urls")),
    path("verifikasi/", include("tepat.verification.staff_urls")),
    path("ledger/", include("tepat.ledger.urls")),
    path("transparansi/", include("tepat.transparency.urls")),
    path("pemantauan/", include("tepat.monitoring.urls")),
    path("pengaduan/", include("tepat.grievances.urls")),
    path("privasi/", include("tepat.privacy.urls")),
]

# Error pages in the user's language (Indonesian first), htmx alerts and the API's error shape.
handler400 = "tepat.core.http_errors.bad_request"
handler403 = "tepat.core.http_errors.permission_denied"
handler404 = "tepat.core.http_errors.page_not_found"
handler500 = "tepat.core.http_errors.server_error"
