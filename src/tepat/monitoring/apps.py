from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "tepat.monitoring"
    label = "monitoring"
    verbose_name = "Pemantauan (monitoring and alerts)"

    def ready(self) -> None:
        from tepat.core.audit import on_bulk_read
        from tepat.ledger.anchor import on_integrity_failure
        from tepat.monitoring.services import bulk_read_alert, ledger_integrity_alert

        on_bulk_read(bulk_read_alert)
        on_integrity_failure(ledger_integrity_alert)
