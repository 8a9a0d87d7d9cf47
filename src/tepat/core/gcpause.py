"""Pausing Python's cyclic garbage collector around bulk work.

An import or a linkage apply allocates millions of small containers that stay alive until the
work ends; the collector then runs ever longer full passes over a growing heap that holds no
cycle to find (a sixth of an import's time, a tenth of an apply's). Reference counting still
frees everything else; cycles wait for the next collection after the pause.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_pausers = 0
_was_enabled = False


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The collector off for the block. Blocks running at the same time in threads (two uploads
    in the web process) share one pause; the collector comes back, if it was on before the
    first, when the last one ends. The setting is process-wide by nature."""
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()
