from django.urls import path

app_name = "grievances"
urlpatterns: list[path] = []  # type: ignore[valid-type]
