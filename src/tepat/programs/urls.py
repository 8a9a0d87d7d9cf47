from django.urls import path

from tepat.programs import views

app_name = "programs"
urlpatterns = [
    path("", views.programme_list, name="list"),
    path("tahap/baru/", views.cycle_new, name="cycle_new"),
    path("tahap/<str:cycle_id>/", views.cycle_detail, name="cycle"),
    path("tahap/<str:cycle_id>/<str:action>/", views.cycle_action, name="cycle_action"),
]
