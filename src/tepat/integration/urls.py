from django.urls import path

from tepat.integration import views

app_name = "integration"
urlpatterns = [
    path("", views.home, name="home"),
    path("impor/<str:public_id>/", views.run_detail, name="run"),
    path("impor/<str:public_id>/progres/", views.run_progress, name="run_progress"),
    path("impor/<str:public_id>/karantina.csv", views.quarantine_download, name="quarantine_csv"),
    path("impor/<str:public_id>/kirim-ulang/", views.quarantine_resubmit, name="resubmit"),
    path("tinjau/", views.review_queue, name="review"),
    path("tinjau/<str:public_id>/", views.review_decide, name="review_decide"),
    path("tinjau/<str:public_id>/batalkan/", views.review_undo, name="review_undo"),
    path("kualitas/", views.quality, name="quality"),
]
