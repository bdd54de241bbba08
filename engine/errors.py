"""Errors meant for the person at the keyboard: one line, what went wrong and what to do.

The engine describes the problem; what to do about it depends on where the person is (a
flag on the command line, a setting in the window), so an error names its ``remedy`` and
the CLI (``engine.cli``) and the app (``styler_app.worker``) each word it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

# What the person can do about an error, independent of how they talk to Styler.
Remedy = Literal["smaller_image", "smaller_style", "other_device", "other_segmenter"]


class StylerError(Exception):
    """A problem the user can fix; the CLI prints it as one line, the GUI as a message."""

    def __init__(self, message: str, remedy: Remedy | None = None) -> None:
        super().__init__(message)
        self.remedy = remedy

    def worded(self, remedies: Mapping[Remedy, str]) -> str:
        """The message with the remedy in the caller's own terms."""
        advice = remedies.get(self.remedy) if self.remedy is not None else None
        return f"{self}; {advice}" if advice else str(self)


class Cancelled(Exception):
    """Raised inside long work when the caller's cancel callback says stop."""


# What long engine work is given to ask "should I stop?" between steps.
CancelCallback = Callable[[], bool]


def check_cancel(cancel: CancelCallback | None) -> None:
    """Raise Cancelled when the caller's cancel callback says stop."""
    if cancel is not None and cancel():
        raise Cancelled()
