from django.urls import path

app_name = "targeting"
urlpatterns: list[path] = []  # type: ignore[valid-type]
