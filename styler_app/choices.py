"""What the person has picked, turned into render requests: the current photo, the style,
the render settings and the photo's brushed mask and clicks."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from styler_app.images import qimage_to_mask
from styler_app.mask_edits import MaskEdits
from styler_app.render_settings import RenderSettings
from styler_app.requests import RenderRequest
from styler_app.widgets.browser import BrowserPane
from styler_app.widgets.styles import StylePanel


class Choices:
    def __init__(self, browser: BrowserPane, styles: StylePanel, settings: RenderSettings, mask_edits: MaskEdits) -> None:
        self.browser, self.styles, self.settings, self.mask_edits = browser, styles, settings, mask_edits
        # "sam" once the engine reports SAM 2 installed (``--refine``'s default, as in the CLI).
        self.refiner = "none"

    def current_request(self, with_mask_edit: bool = True) -> RenderRequest | None:
        """The request for the photo on show; None without a photo or a style."""
        content = self.browser.current_path()
        return None if content is None else self.request_for(content, with_mask_edit)

    def request_for(self, content: Path, with_mask_edit: bool = True) -> RenderRequest | None:
        """What the controls say for ``content`` (its own brushed mask included); None
        without a style."""
        style = self.styles.current_style()
        if style is None:
            return None
        mask = self.mask_edits.mask(str(content)) if with_mask_edit else None
        clicks = self.mask_edits.clicks(str(content)) if self.refiner == "sam" else ()
        return RenderRequest(
            content=content,
            style=style,
            options=replace(self.settings.options, refiner=self.refiner, points=clicks),
            mask_edit=qimage_to_mask(mask) if mask is not None else None,
        )
