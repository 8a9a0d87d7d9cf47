"""Records of processing, processors and retention (staff), their exports, and the public
privacy notice, under /privasi/catatan/. The notice lives here because it is the public
reading of the same records, generated from the same declarations."""

from django.urls import path

from tepat.privacy import views_records as views

urlpatterns = [
    path("", views.records_page, name="records"),
    path("pemroses/", views.processors_page, name="processors"),
    path("retensi/", views.retention_page, name="retention"),
    path("ekspor/<str:part>.<str:fmt>", views.export, name="records_export"),
    path("pemberitahuan/", views.notice, name="notice"),
]
