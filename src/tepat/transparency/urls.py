from django.urls import URLPattern, path

from tepat.transparency import views

app_name = "transparency"
urlpatterns: list[URLPattern] = [
    path("", views.dashboard, name="dashboard"),
    path("data/", views.opendata, name="opendata"),
    path("data/<str:public_id>/", views.release, name="release"),
    path("data/<str:public_id>/<path:path>", views.release_file, name="release_file"),
]
