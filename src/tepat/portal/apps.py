from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tepat.portal"
    label = "portal"
    verbose_name = "Public portal"
