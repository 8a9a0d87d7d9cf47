"""Settings for the citizen status-check load benchmark: the real settings, with the per-address
limit off (all load comes from one loopback address). The per-NIK limit and the single-use
challenge stay on, shared through Redis across the server's worker processes."""

from tepat.config.settings import *  # noqa: F403

TEPAT_CEK_LIMIT_PER_IP_HOUR = 0
