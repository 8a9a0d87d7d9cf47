from django.urls import path

app_name = "programs"
urlpatterns: list[path] = []  # type: ignore[valid-type]
