"""What is checked before a run starts: both image folders (in the thread pool: a large
folder takes seconds to decode) and the run folder (named, held by no other process, and
not already holding a run unless resuming). Also gathers the gallery's styles into a folder
of the run when they are the style images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from engine.errors import StylerError
from engine.train.folders import FolderCheck, check_folder
from engine.train.lock import in_use_message, lock_holder
from engine.train.runs import run_summary

FolderChecks = tuple[FolderCheck, FolderCheck]  # (content, style)


class _Signals(QObject):
    done = Signal(object, str)  # FolderChecks or None, error message


class _FolderCheckTask(QRunnable):
    def __init__(self, content: str, style: str) -> None:
        super().__init__()
        self.content, self.style = content, style
        self.signals = _Signals()

    def run(self) -> None:
        try:
            checks = (check_folder(self.content, "content"), check_folder(self.style, "style"))
        except StylerError as exc:
            self.signals.done.emit(None, str(exc))
            return
        self.signals.done.emit(checks, "")


class FolderChecker(QObject):
    """Checks a content and a style folder off the GUI thread. ``done`` reports every check
    (checks or an error message); a successful check then calls the ``then`` it was given."""

    done = Signal(object, str)  # FolderChecks or None, error message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[_FolderCheckTask] = []
        self._then: Callable[[FolderChecks], None] | None = None

    @property
    def busy(self) -> bool:
        return self._then is not None

    def check(self, content: str, style: str, then: Callable[[FolderChecks], None]) -> None:
        self._then = then
        task = _FolderCheckTask(content, style)
        task.signals.done.connect(self._checked)
        self._tasks.append(task)  # keeps its signals object alive until it reports
        QThreadPool.globalInstance().start(task)

    @Slot(object, str)
    def _checked(self, checks: FolderChecks | None, error: str) -> None:
        self._tasks = [t for t in self._tasks if t.signals is not self.sender()]
        then, self._then = self._then, None
        self.done.emit(checks, error)
        if checks is not None and then is not None:
            then(checks)


def run_folder_refusal(name: str, run_dir: Path, resume: bool) -> str:
    """Why the run ``name`` (folder ``run_dir``) cannot be started or resumed now, or ''."""
    if not name:
        return "Give the run a name: it becomes its folder under the runs folder."
    holder = lock_holder(run_dir)
    if holder is not None:
        return in_use_message(run_dir, holder if holder > 0 else None)
    summary = run_summary(run_dir)
    if not resume and summary.study is not None:
        return (f"{run_dir} already holds an ablation ({summary.study.study}, {summary.state}); Resume it, "
                "or choose another run name")
    if not resume and summary.checkpoint_step is not None:
        return (f"{run_dir} already holds a run (step {summary.checkpoint_step}); Resume it, "
                "or choose another run name")
    if resume and not summary.can_resume:
        return f"{run_dir}: nothing to resume (no checkpoint, or the run has finished)"
    return ""


def gather_gallery_styles(run_dir: Path, styles: list[Path]) -> Path:
    """The gallery's styles, linked (copied where links are not allowed) into
    RUN_DIR/gallery-styles, the style folder the run is given. Raises OSError."""
    folder = run_dir / "gallery-styles"
    folder.mkdir(parents=True, exist_ok=True)
    for index, style in enumerate(styles):
        link = folder / f"{index:03d}-{style.name}"
        if not link.exists():
            try:
                link.symlink_to(style.resolve())
            except OSError:
                link.write_bytes(style.read_bytes())
    return folder
