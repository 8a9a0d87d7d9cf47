from typing import Any

from django.apps import AppConfig
from django.core import checks


def _detector_settings(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    """A mistyped TEPAT_BREACH_DETECTORS fails `tepat check` (and every command that runs the
    checks) with the key and the reason, instead of waiting for the first detector run."""
    from tepat.monitoring.detectors import DetectorConfigError, detector_config

    try:
        detector_config()
    except DetectorConfigError as exc:
        return [checks.Error(exc.message, id="monitoring.E001")]
    return []


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
        checks.register(_detector_settings)
