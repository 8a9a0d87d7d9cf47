"""The settings mypy's Django plugin loads: the real settings, read as a development installation.

The type checker imports the settings without running the app; a production environment's keys
are not there (and must not be), so it reads them the way a developer's machine does.
"""

import os

os.environ.setdefault("TEPAT_DEV", "true")

from tepat.config.settings import *  # noqa: F403
