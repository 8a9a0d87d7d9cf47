from django.urls import path

from tepat.payments import views

app_name = "payments"
urlpatterns = [
    path("gagal/", views.dead_letters, name="dead_letters"),
    path("bayar/<str:payment_id>/selesaikan/", views.resolve, name="resolve"),
    path("tahap/<str:cycle_id>/kemajuan/", views.progress, name="progress"),
    path("tahap/<str:cycle_id>/panel/", views.panel, name="panel"),
    path("tahap/<str:cycle_id>/terbitkan/", views.issue, name="issue"),
    path("tahap/<str:cycle_id>/batalkan/", views.cancel, name="cancel"),
    path("tahap/<str:cycle_id>/rekonsiliasi/", views.reconciliation, name="reconciliation"),
    path(
        "tahap/<str:cycle_id>/rekonsiliasi/<str:action>/",
        views.reconciliation_action,
        name="reconciliation_action",
    ),
]
