"""`tepat vouchers issue --cycle ID --user NAME` / `tepat vouchers revoke ID --reason ... --user`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tepat.accounts.models import User
from tepat.core.errors import TepatError
from tepat.programs.models import Cycle
from tepat.verification import services


class Command(BaseCommand):
    help = "Terbitkan atau cabut voucher QR bertanda tangan / issue or revoke signed QR vouchers"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        issue = sub.add_parser("issue")
        issue.add_argument("--cycle", required=True, help="the cycle's public id")
        issue.add_argument("--user", required=True, help="acting staff username")
        revoke = sub.add_parser("revoke")
        revoke.add_argument("voucher")
        revoke.add_argument("--reason", required=True)
        revoke.add_argument("--user", required=True)

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"unknown user {opts['user']}")
        try:
            if opts["action"] == "issue":
                cycle = Cycle.objects.filter(public_id=opts["cycle"]).first()
                if cycle is None:
                    raise CommandError(f"unknown cycle {opts['cycle']}")
                n = services.vouchers_issue(acting_user=user, cycle=cycle)
                self.stdout.write(f"{n} voucher diterbitkan / issued")
            else:
                v = services.voucher_revoke(
                    acting_user=user, voucher_id=opts["voucher"], reason=opts["reason"]
                )
                self.stdout.write(f"voucher {v.public_id} dicabut / revoked")
        except TepatError as exc:
            raise CommandError(exc.message) from exc
