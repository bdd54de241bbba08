"""The preview canvas: before/after split, mask overlay, zoom and pan, and the mask brush."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QRadialGradient,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

OVERLAY_COLOUR = QColor(255, 40, 160)
MIN_ZOOM, MAX_ZOOM = 0.05, 16.0


class PreviewCanvas(QWidget):
    """Draws ``original`` left of the split and ``result`` right of it, scaled to fit or at
    a zoom factor. With a brush mode set, left-drag paints on the mask (in image pixels);
    in "select" mode a left click picks the object under it (Shift or Alt: removes one).

    Signals:
        stroke_finished(QImage): the mask after one brush stroke (press, drag, release).
        clicked(QPointF, bool): "select" mode: where (image pixels) and whether to add.
        zoom_changed(float): the effective scale (1.0 = 100 %).
    """

    stroke_finished = Signal(QImage)
    clicked = Signal(QPointF, bool)
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 200)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._original: QImage | None = None
        self._result: QImage | None = None
        self._mask: QImage | None = None
        self._overlay: QImage | None = None
        self.show_mask = False
        self.split = 0.5  # fraction of the width showing the original
        self._zoom: float | None = None  # None = fit to the widget
        self._pan = QPointF(0, 0)
        self._drag_from: QPointF | None = None
        self.brush_mode = ""  # "", "add", "erase" or "select" (click to pick objects)
        self.brush_size = 24.0  # diameter in image pixels
        self.brush_softness = 0.5
        self._stroking = False
        self._cursor_pos: QPointF | None = None
        self.status_text = ""
        self.placeholder = "Pick a photo and a style to see a preview"

    # ------------------------------------------------------------------ content

    def set_images(self, original: QImage | None, result: QImage | None) -> None:
        same_size = self._original is not None and original is not None and original.size() == self._original.size()
        self._original, self._result = original, result
        if not same_size:
            self._pan = QPointF(0, 0)
        self.update()

    def set_mask(self, mask: QImage | None) -> None:
        self._mask = mask.copy() if mask is not None else None
        self._rebuild_overlay()
        self.update()

    def mask_image(self) -> QImage | None:  # not `mask`: that is QWidget's clip region
        return self._mask

    def original(self) -> QImage | None:
        """The photo as shown left of the split line ("Before")."""
        return self._original

    def result(self) -> QImage | None:
        """The stylised preview as shown right of the split line ("After")."""
        return self._result

    def has_image(self) -> bool:
        return self._result is not None

    def set_split(self, fraction: float) -> None:
        self.split = min(1.0, max(0.0, fraction))
        self.update()

    def set_show_mask(self, show: bool) -> None:
        self.show_mask = show
        self.update()

    def set_status(self, text: str) -> None:
        self.status_text = text
        self.update()

    # ------------------------------------------------------------------ zoom

    def zoom_fit(self) -> None:
        self._zoom = None
        self._pan = QPointF(0, 0)
        self.zoom_changed.emit(self.scale())
        self.update()

    def zoom_to(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom keeping the image point under ``anchor`` (widget coordinates) in place."""
        if self._result is None:
            return
        anchor = anchor or QPointF(self.width() / 2, self.height() / 2)
        before = self._to_image(anchor)
        self._zoom = min(MAX_ZOOM, max(MIN_ZOOM, factor))
        after = self._to_widget(before)
        self._pan += anchor - after
        self.zoom_changed.emit(self.scale())
        self.update()

    def zoom_by(self, steps: float, anchor: QPointF | None = None) -> None:
        self.zoom_to(self.scale() * (1.25**steps), anchor)

    def scale(self) -> float:
        """Screen pixels per image pixel (the zoom; in fit mode, what fitting gave)."""
        if self._result is None:
            return 1.0
        if self._zoom is not None:
            return self._zoom
        w, h = self._result.width(), self._result.height()
        return min(self.width() / max(w, 1), self.height() / max(h, 1))

    def _image_rect(self) -> QRectF:
        assert self._result is not None
        scale = self.scale()
        w, h = self._result.width() * scale, self._result.height() * scale
        return QRectF((self.width() - w) / 2 + self._pan.x(), (self.height() - h) / 2 + self._pan.y(), w, h)

    def _to_image(self, point: QPointF) -> QPointF:
        rect = self._image_rect()
        scale = self.scale()
        return QPointF((point.x() - rect.x()) / scale, (point.y() - rect.y()) / scale)

    def _to_widget(self, point: QPointF) -> QPointF:
        rect = self._image_rect()
        scale = self.scale()
        return QPointF(rect.x() + point.x() * scale, rect.y() + point.y() * scale)

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        # A shade of the window colour, not the white text-field Base: the photo stands out
        # from its letterbox in light and dark themes.
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Window).darker(112))
        if self._result is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder)
            self._draw_status(painter)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.scale() < 2.0)
        rect = self._image_rect()
        painter.drawImage(rect, self._result)
        if self._original is not None and self.split > 0:
            split_x = rect.x() + rect.width() * self.split
            painter.save()
            painter.setClipRect(QRectF(rect.x(), rect.y(), split_x - rect.x(), rect.height()))
            painter.drawImage(rect, self._original)
            painter.restore()
            if self.split < 1:
                top, bottom = QPointF(split_x, rect.top()), QPointF(split_x, rect.bottom())
                # A dark edge under a light line: visible on bright and dark photos alike.
                painter.setPen(QPen(QColor(0, 0, 0, 140), 4))
                painter.drawLine(top, bottom)
                painter.setPen(QPen(QColor(255, 255, 255, 230), 2))
                painter.drawLine(top, bottom)
        if self.show_mask and self._overlay is not None:
            painter.setOpacity(0.5)
            painter.drawImage(rect, self._overlay)
            painter.setOpacity(1.0)
        if self.brush_mode in ("add", "erase") and self._cursor_pos is not None:
            radius = self.brush_size * self.scale() / 2
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(0, 0, 0, 200), 1))  # under the dashes, for white areas
            painter.drawEllipse(self._cursor_pos, radius, radius)
            painter.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
            painter.drawEllipse(self._cursor_pos, radius, radius)
        self._draw_status(painter)

    def _draw_status(self, painter: QPainter) -> None:
        if not self.status_text:
            return
        metrics = painter.fontMetrics()
        box = QRectF(8, 8, metrics.horizontalAdvance(self.status_text) + 16, metrics.height() + 8)
        painter.setOpacity(0.8)
        painter.fillRect(box, QColor(20, 20, 20))
        painter.setOpacity(1.0)
        painter.setPen(QColor(240, 240, 240))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.status_text)

    def _rebuild_overlay(self) -> None:
        if self._mask is None:
            self._overlay = None
            return
        overlay = QImage(self._mask.size(), QImage.Format.Format_ARGB32_Premultiplied)
        overlay.fill(OVERLAY_COLOUR)
        overlay.setAlphaChannel(self._mask)
        self._overlay = overlay

    # ------------------------------------------------------------------ mouse

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_by(event.angleDelta().y() / 120.0, event.position())

    def mousePressEvent(self, event: QMouseEvent) -> None:
        left = event.button() == Qt.MouseButton.LeftButton
        if left and self.brush_mode == "select" and self._original is not None:
            point = self._to_image(event.position())
            if 0 <= point.x() < self._original.width() and 0 <= point.y() < self._original.height():
                removing = event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.AltModifier)
                self.clicked.emit(point, not removing)
            return
        painting = self.brush_mode in ("add", "erase") and self._mask is not None and left
        if painting:
            self._stroking = True
            self._dab(event.position())
        elif event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._cursor_pos = event.position()
        if self._stroking:
            self._dab(event.position())
        elif self._drag_from is not None:
            if self._zoom is None:  # dragging from "fit" pans at the fitted scale
                self._zoom = self.scale()
            self._pan += event.position() - self._drag_from
            self._drag_from = event.position()
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._stroking and self._mask is not None:
            self._stroking = False
            self.stroke_finished.emit(self._mask.copy())
        self._drag_from = None
        self.unsetCursor()

    def leaveEvent(self, event: object) -> None:
        self._cursor_pos = None
        self.update()

    def _dab(self, widget_point: QPointF) -> None:
        """One soft round dab of the brush at ``widget_point`` onto the mask."""
        assert self._mask is not None
        centre = self._to_image(widget_point)
        radius = max(1.0, self.brush_size / 2)
        value = 255 if self.brush_mode == "add" else 0
        gradient = QRadialGradient(centre, radius)
        solid = QColor(value, value, value, 255)
        gradient.setColorAt(0.0, solid)
        gradient.setColorAt(max(0.0, min(0.99, 1.0 - self.brush_softness)), solid)
        gradient.setColorAt(1.0, QColor(value, value, value, 0))
        painter = QPainter(self._mask)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawEllipse(centre, radius, radius)
        painter.end()
        self._rebuild_overlay()
        self.update()
