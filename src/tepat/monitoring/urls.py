from django.urls import URLPattern, path

from tepat.monitoring import views

app_name = "monitoring"
urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("langsung/", views.live, name="live"),
    path("peringatan/<str:public_id>/<str:action>/", views.alert_action, name="alert_action"),
    # The incident register (UU 27/2022 Art. 46) and the audit log: the DPO's pages.
    path("insiden/", views.incidents, name="incidents"),
    path("insiden/baru/", views.incident_new, name="incident_new"),
    path(
        "insiden/dari-peringatan/<str:alert_id>/",
        views.incident_from_alert,
        name="incident_from_alert",
    ),
    path("insiden/<str:public_id>/", views.incident_detail, name="incident"),
    path("insiden/<str:public_id>/ubah/", views.incident_edit, name="incident_edit"),
    path("insiden/<str:public_id>/<str:action>/", views.incident_action, name="incident_action"),
    path("audit/", views.audit_log, name="audit"),
]
