from django.urls import path

app_name = "integration"
urlpatterns: list[path] = []  # type: ignore[valid-type]
