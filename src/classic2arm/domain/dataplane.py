"""How long the data-plane steps of a migration keep a VM down, in world-clock time.

No source gives durations; these are our model [P] of a classic stop/deallocate followed by a start of the
ARM VM on new hardware (allocation, boot, guest agent ready). They make the downtime report speak in
realistic minutes even when the world clock is frozen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

STOP_DEALLOCATE: Final = timedelta(seconds=90)
START_IN_ARM: Final = timedelta(seconds=150)


def restart_window() -> timedelta:
    """From the moment the classic VM stops serving to the moment its ARM twin serves again."""
    return STOP_DEALLOCATE + START_IN_ARM
