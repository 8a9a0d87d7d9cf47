"""Staff pages of verification, mounted at /verifikasi/ (outside the field app's scope)."""

from django.urls import path

from tepat.verification import views

app_name = "verification_staff"
urlpatterns = [
    path("penukaran-ganda/", views.flagged, name="flagged"),
    path(
        "penukaran-ganda/<str:client_id>/selesaikan/",
        views.flagged_resolve,
        name="flagged_resolve",
    ),
    path("penerima/", views.person_index, name="persons"),
    path("penerima/<str:person_id>/", views.person, name="person"),
    path("penerima/<str:person_id>/kuasa/", views.proxy_register, name="proxy_register"),
    path("penerima/<str:person_id>/wajah/", views.face_enrol, name="face_enrol"),
    path("kuasa/<str:proxy_id>/cabut/", views.proxy_revoke, name="proxy_revoke"),
    path("kebijakan/", views.policies, name="policies"),
    path("kebijakan/simpan/", views.policy_set, name="policy_set"),
]
