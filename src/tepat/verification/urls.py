from django.urls import path

from tepat.verification import views

app_name = "verification"
urlpatterns = [
    path("", views.field_app, name="field"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("sw.js", views.service_worker, name="sw"),
    path("voucher/<str:public_id>/", views.voucher_print, name="voucher_print"),
]
