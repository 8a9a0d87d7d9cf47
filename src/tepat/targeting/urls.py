from django.urls import path

from tepat.targeting import views

app_name = "targeting"
urlpatterns = [
    path("", views.index, name="index"),
    path("model/<int:version>/", views.model_card, name="model"),
    path("skoring/", views.runs, name="runs"),
    path(
        "model/<int:version>/prediksi.csv",
        views.model_predictions_csv,
        name="model_predictions_csv",
    ),
    path("skoring/<str:public_id>/skor.csv", views.run_scores_csv, name="run_scores_csv"),
    path("aturan/", views.rules, name="rules"),
    path("skenario/", views.scenarios, name="scenarios"),
    path("rumah-tangga/<str:public_id>/", views.household, name="household"),
    path("musyawarah/", views.community, name="community"),
]
