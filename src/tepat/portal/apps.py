from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from tepat.messaging.gateway import SmsGateway


class PortalConfig(AppConfig):
    name = "tepat.portal"
    label = "portal"
    verbose_name = "Public portal"

    def ready(self) -> None:
        from tepat.messaging.outboxes import outbox_register

        # Citizen sign-in codes: queued by the sign-in page, sent by `tepat worker --sms`.
        outbox_register("portal.citizen_otp", _otp_drain)


def _otp_drain(gateway: SmsGateway) -> int:
    # Imported here, not at the top: apps.py is loaded before any model.
    from tepat.portal.citizen import otp_deliver

    return otp_deliver(gateway=gateway)
