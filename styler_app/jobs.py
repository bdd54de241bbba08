"""The jobs the window submits to the engine worker. Each is a small value object whose
``run`` (worker thread) calls into the engine session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from styler_app.session import BatchResult, PreviewResult, RenderRequest, SaveResult, SelectionResult
from styler_app.worker import JobContext


@dataclass
class PreviewJob:
    request: RenderRequest
    size: int  # longer side of the preview in pixels
    kind: str = "preview"

    @property
    def title(self) -> str:
        return f"Preview {self.request.content.name}"

    def run(self, context: JobContext) -> PreviewResult:
        return context.session.preview(self.request, self.size, context)  # type: ignore[attr-defined]


@dataclass
class SaveJob:
    request: RenderRequest
    destination: Path
    kind: str = "save"

    @property
    def title(self) -> str:
        return f"Save {self.destination.name}"

    def run(self, context: JobContext) -> SaveResult:
        return context.session.save(self.request, self.destination, context)  # type: ignore[attr-defined]


@dataclass
class SaveSelectionJob:
    """The selected photos, each rendered at full size like ``SaveJob``, as one job."""

    saves: list[tuple[RenderRequest, Path]]
    output: Path
    kind: str = "save"

    @property
    def title(self) -> str:
        return f"Save {len(self.saves)} photos → {self.output.name}"

    def run(self, context: JobContext) -> SelectionResult:
        return context.session.save_many(self.saves, self.output, context)  # type: ignore[attr-defined]


@dataclass
class BatchJob:
    """Every photo of ``folder`` into ``output`` through ``engine.batch`` (manifest, resume)."""

    folder: Path
    output: Path
    request: RenderRequest
    name_template: str
    kind: str = "batch"

    @property
    def title(self) -> str:
        return f"Stylize folder {self.folder.name} → {self.output.name}"

    def run(self, context: JobContext) -> BatchResult:
        return context.session.batch(self.folder, self.output, self.request, self.name_template, context)  # type: ignore[attr-defined]
