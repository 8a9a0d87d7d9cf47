from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "tepat.payments"
    label = "payments"
    verbose_name = "Penyaluran (payments)"
