from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "tepat.ledger"
    label = "ledger"
    verbose_name = "Transparency log"
