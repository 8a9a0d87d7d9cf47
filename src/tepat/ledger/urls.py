from django.urls import URLPattern, path

from tepat.ledger import views

app_name = "ledger"
urlpatterns: list[URLPattern] = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("tile/entries/<path:rest>", views.entries, name="entries"),
    path("tile/<int:level>/<path:rest>", views.tile, name="tile"),
    path("verify/", views.verify_receipt, name="verify_receipt"),
]
