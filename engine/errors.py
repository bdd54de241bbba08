"""Errors meant for the person at the keyboard: one line, what went wrong and what to do."""


class StylerError(Exception):
    """A problem the user can fix; the CLI prints it as one line, the GUI as a dialog."""


class Cancelled(Exception):
    """Raised inside long work when the caller's cancel callback says stop."""
