from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "tepat.registry"
    label = "registry"
    verbose_name = "Registri sosial (households and persons)"
