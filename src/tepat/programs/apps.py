from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "tepat.programs"
    label = "programs"
    verbose_name = "Program dan tahap (programmes and cycles)"
