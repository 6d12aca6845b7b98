"""The cyclic garbage collector, paused where a run makes many objects and no reference cycles.

coinpurse's data (transactions, accounts, parsed JSON) are trees, so the collector
finds nothing; it only walks everything made so far, again and again. See
docs/performance.md for what each pause saves.
"""

from __future__ import annotations

import atexit
import gc
from types import TracebackType


class CollectorPaused:
    """``with CollectorPaused():`` the collector is off inside and back as it was after.

    If it was on, what was made meanwhile moves to the oldest generation without a
    walk (freeze, then unfreeze), so the first collection after does not walk it all.
    """

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._was_enabled:
            gc.freeze()
            gc.enable()
            gc.unfreeze()


def collector_off_until_exit() -> None:
    """For a short-lived process: no collections for the rest of the run, nor the one at exit.

    Frozen objects are skipped by the collection Python makes on its way out.
    """
    gc.disable()
    atexit.register(gc.freeze)
