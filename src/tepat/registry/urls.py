from django.urls import path

from tepat.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.search, name="search"),
    path("wilayah/", views.search_region_options, name="search_regions"),
    path("rumah-tangga/<str:public_id>/", views.household, name="household"),
    path("orang/<str:public_id>/", views.person, name="person"),
]
