from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "tepat.integration"
    label = "integration"
    verbose_name = "Integrasi data (import, linkage, golden records)"
