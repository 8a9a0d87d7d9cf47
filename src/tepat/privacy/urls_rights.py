"""Staff pages for data-subject requests (UU 27/2022), under /privasi/permintaan/."""

from django.urls import path

from tepat.privacy import views

urlpatterns = [
    path("permintaan/", views.queue, name="rights_queue"),
    path("permintaan/baru/", views.open_for_walk_in, name="rights_open"),
    path("permintaan/<str:public_id>/", views.case, name="rights_case"),
]
