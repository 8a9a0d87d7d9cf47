from django.urls import path

from tepat.grievances import views

app_name = "grievances"
urlpatterns = [
    path("", views.complaint_new, name="complaint_new"),
    path("lacak/", views.track, name="track"),
    path("lacak/<str:code>/", views.complaint_status, name="complaint_status"),
    path("usul-sanggah/", views.report_new, name="report_new"),
    path("usul-sanggah/<str:code>/", views.report_status, name="report_status"),
    path("operator/", views.inbox, name="inbox"),
    path("operator/aduan/<str:public_id>/", views.complaint_detail, name="complaint_detail"),
    path("operator/tugas/<str:public_id>/", views.task_detail, name="task_detail"),
    path("operator/tugas/<str:public_id>/foto", views.task_photo, name="task_photo"),
]
