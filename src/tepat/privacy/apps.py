from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tepat.privacy"
    label = "privacy"
    verbose_name = "Pelindungan data pribadi"
