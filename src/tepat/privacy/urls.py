"""Personal data protection (UU 27/2022) pages. Each part keeps its own URL module:
rights requests and their queue (`urls_rights`), records of processing, processors and the
retention schedule (`urls_records`)."""

from django.urls import include, path

app_name = "privacy"
urlpatterns = [
    path("", include("tepat.privacy.urls_rights")),
    path("catatan/", include("tepat.privacy.urls_records")),
]
