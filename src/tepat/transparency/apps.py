from django.apps import AppConfig


class TransparencyConfig(AppConfig):
    name = "tepat.transparency"
    label = "transparency"
    verbose_name = "Transparansi publik (dashboard, data terbuka)"
