from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "tepat.programs"
    label = "programs"
    verbose_name = "Program dan tahap (programmes and cycles)"

    def ready(self) -> None:
        from tepat.programs import ledger_kinds

        ledger_kinds.register()  # what programmes write to the transparency log
