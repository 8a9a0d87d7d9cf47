"""The `tepat` console command: Django's management commands under one name.

`tepat synth ...`, `tepat regions load`, `tepat migrate`, `tepat runserver` and so on.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else ["tepat", *argv])
    if args[1:2] == ["keygen"]:
        # Before the settings: a production installation refuses to start without its keys.
        from tepat.config.keygen import main as keygen

        keygen(args[2:])
        return
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
