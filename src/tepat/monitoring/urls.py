from django.urls import URLPattern, path

from tepat.monitoring import views

app_name = "monitoring"
urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("langsung/", views.live, name="live"),
    path("peringatan/<str:public_id>/<str:action>/", views.alert_action, name="alert_action"),
]
