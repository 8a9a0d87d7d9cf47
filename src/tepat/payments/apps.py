from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "tepat.payments"
    label = "payments"
    verbose_name = "Penyaluran (payments)"

    def ready(self) -> None:
        from tepat.ledger.cross_checks import cross_check_register
        from tepat.payments import ledger_kinds
        from tepat.payments.selectors import ledger_cross_check

        ledger_kinds.register()  # what a payment's life writes to the transparency log
        # `tepat ledger verify` then compares the payments table with the log.
        cross_check_register(
            "payments",
            ledger_cross_check,
            ok="OK: every settled payment matches its log entry",
            failed="payments differ from the transparency log",
        )
