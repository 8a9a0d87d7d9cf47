"""`tepat staff create|scope|unlock|reset-password|reset-totp|list`: staff accounts from the shell."""

from __future__ import annotations

import getpass
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tepat.accounts import selectors, services
from tepat.accounts.models import Role, User
from tepat.core.errors import TepatError


def _user(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(f"no staff user named {username!r}") from None


class Command(BaseCommand):
    help = "Manage staff accounts: create, scope, unlock, reset-password, reset-totp, list."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a staff account")
        create.add_argument("--username", required=True)
        create.add_argument("--role", required=True, choices=Role.values)
        create.add_argument(
            "--region",
            action="append",
            default=[],
            metavar="CODE",
            help="undotted Kemendagri region code (repeatable)",
        )
        create.add_argument("--email", default="")
        create.add_argument(
            "--password-file",
            type=Path,
            help="read the password from this file (first line); otherwise prompt",
        )
        create.add_argument(
            "--own-account",
            action="store_true",
            help="the account is yours: no password change at the first log-in (otherwise the "
            "new staff member must replace the password you chose)",
        )
        reset_password = sub.add_parser(
            "reset-password", help="set a new password; the user must change it at next log-in"
        )
        reset_password.add_argument("--username", required=True)
        reset_password.add_argument("--password-file", type=Path)
        scope = sub.add_parser("scope", help="replace a user's region scopes")
        scope.add_argument("--username", required=True)
        scope.add_argument("--region", action="append", default=[], metavar="CODE")
        unlock = sub.add_parser("unlock", help="clear a lock-out")
        unlock.add_argument("--username", required=True)
        reset = sub.add_parser("reset-totp", help="forget a user's TOTP secret (lost phone)")
        reset.add_argument("--username", required=True)
        sub.add_parser("list", help="list staff accounts")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except TepatError as exc:
            raise CommandError(exc.message) from None

    def _password(self, options: dict[str, Any]) -> str:
        path: Path | None = options["password_file"]
        if path is not None:
            try:
                return path.read_text(encoding="utf-8").splitlines()[0]
            except (OSError, IndexError) as exc:
                raise CommandError(f"cannot read a password from {path}: {exc}") from None
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords do not match")
        return first

    def _create(self, options: dict[str, Any]) -> None:
        user = services.user_create(
            acting_user=None,
            username=options["username"],
            password=self._password(options),
            role=options["role"],
            region_codes=options["region"],
            email=options["email"],
            must_change_password=not options["own_account"],
        )
        then = "" if options["own_account"] else ", then a new password"
        self.stdout.write(
            f"created {user.username} ({user.role}); TOTP is set up at first log-in{then}"
        )

    def _reset_password(self, options: dict[str, Any]) -> None:
        user = _user(options["username"])
        services.user_password_reset(acting_user=None, user=user, password=self._password(options))
        self.stdout.write(
            f"{user.username}: password set; they choose their own at the next log-in"
        )

    def _scope(self, options: dict[str, Any]) -> None:
        codes = services.user_scope_set(
            acting_user=None, user=_user(options["username"]), region_codes=options["region"]
        )
        self.stdout.write(f"{options['username']}: regions {', '.join(codes) or '(none)'}")

    def _unlock(self, options: dict[str, Any]) -> None:
        services.user_unlock(acting_user=None, user=_user(options["username"]))
        self.stdout.write(f"unlocked {options['username']}")

    def _reset_totp(self, options: dict[str, Any]) -> None:
        services.totp_reset(acting_user=None, user=_user(options["username"]))
        self.stdout.write(f"{options['username']} will enrol TOTP again at the next log-in")

    def _list(self, options: dict[str, Any]) -> None:
        self.stdout.write(f"{'username':<20} {'role':<12} {'totp':<5} {'locked':<6} regions")
        for user in selectors.staff_list():
            regions = ",".join(sorted(s.region_code for s in user.region_scopes.all()))
            self.stdout.write(
                f"{user.username:<20} {user.role:<12} "
                f"{'yes' if user.totp_confirmed_at else 'no':<5} "
                f"{'yes' if services.is_locked(user) else 'no':<6} {regions or '-'}"
            )
