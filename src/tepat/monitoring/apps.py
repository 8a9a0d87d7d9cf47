from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "tepat.monitoring"
    label = "monitoring"
    verbose_name = "Pemantauan (monitoring and alerts)"
