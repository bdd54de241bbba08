"""The jobs the window submits to the engine worker. Each is a small value object whose
``run`` (worker thread) calls into the engine session; ``EngineWorker.submit`` takes one
plus the callbacks that receive its answer on the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from engine.options import RenderOptions
from styler_app.job_protocol import JobContext
from styler_app.requests import BatchResult, PreviewResult, RenderRequest, SaveResult, SelectionResult
from styler_app.session import EngineSession


def session_of(context: JobContext) -> EngineSession:
    """The worker's session, as the app builds it (tests of the worker alone use fakes)."""
    session = context.session
    if not isinstance(session, EngineSession):
        raise TypeError(f"this job needs an EngineSession, the worker holds {type(session).__name__}")
    return session


@dataclass
class PreviewJob:
    """The preview; with ``quick``, a low-resolution pass first, sent as the job's partial
    answer (``JobContext.partial``) so it is on screen while the full one renders."""

    request: RenderRequest
    size: int  # longer side of the preview in pixels
    quick: bool = True
    kind: Literal["preview"] = "preview"

    @property
    def title(self) -> str:
        return f"Preview {self.request.content.name}"

    def run(self, context: JobContext) -> PreviewResult:
        session = session_of(context)
        if self.quick:
            context.partial(session.quick_preview(self.request, self.size, context))
        return session.preview(self.request, self.size, context)


@dataclass
class SaveJob:
    request: RenderRequest
    destination: Path
    kind: Literal["save"] = "save"

    @property
    def title(self) -> str:
        return f"Save {self.destination.name}"

    def run(self, context: JobContext) -> SaveResult:
        return session_of(context).save(self.request, self.destination, context)


@dataclass
class SaveSelectionJob:
    """The selected photos, each rendered at full size like ``SaveJob``, as one job."""

    saves: list[tuple[RenderRequest, Path]]
    output: Path
    kind: Literal["save"] = "save"

    @property
    def title(self) -> str:
        return f"Save {len(self.saves)} photos → {self.output.name}"

    def run(self, context: JobContext) -> SelectionResult:
        return session_of(context).save_many(self.saves, self.output, context)


@dataclass
class BatchJob:
    """Every photo of ``folder`` into ``output`` through ``engine.batch`` (manifest, resume)."""

    folder: Path
    output: Path
    style: Path
    options: RenderOptions
    name_template: str
    kind: Literal["batch"] = "batch"

    @property
    def title(self) -> str:
        return f"Stylize folder {self.folder.name} → {self.output.name}"

    def run(self, context: JobContext) -> BatchResult:
        return session_of(context).batch(self.folder, self.output, self.style, self.options, self.name_template, context)
