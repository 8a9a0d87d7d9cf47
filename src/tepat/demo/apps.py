from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "tepat.demo"
    label = "demo"
    verbose_name = "Demo (synthetic regency and staff)"
