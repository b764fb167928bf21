"""What the dashboards' printed PDFs share (the MOR, the shift report): text escaped for
ReportLab's paragraph markup, a line clipped to a width, and a canvas that writes
"Page X of Y" on every page once the pages are counted. Pure, no I/O.

Anything a person typed (a name, a label, an entry) reaches a paragraph only through
``esc``, so ``<img src=...>`` prints as those characters and embeds nothing; text drawn
on the canvas directly (headers, footers) is never parsed as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

FONT, BOLD, ITALIC = "Helvetica", "Helvetica-Bold", "Helvetica-Oblique"


def esc(text: object) -> str:
    """Text for ReportLab's paragraph markup: every ``<``, ``>`` and ``&`` literal."""
    return escape(str(text))


def clip(text: str, size: float, width: float, font: str = FONT) -> str:
    """The text, cut with "..." to fit ``width`` points at ``size`` in ``font``."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "...", font, size) > width:
        text = text[:-1]
    return text + "..."


def numbered(pagesize: tuple[float, float], margin: float) -> type[Canvas]:
    """A canvas that holds its pages until the end to write "Page X of Y" on each, at the
    bottom right inside ``margin``."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for state in self._held:
                self.__dict__.update(state)
                self.setFont(BOLD, 8)
                self.drawRightString(
                    pagesize[0] - margin, margin, f"Page {self._pageNumber} of {total}"
                )
                super().showPage()
            super().save()

    return NumberedCanvas


def document(
    out: IO[bytes],
    pagesize: tuple[float, float],
    margin: float,
    bands: tuple[float, float],
    title: str,
    author: str,
    on_page: Callable[[Canvas, Any], None],
) -> BaseDocTemplate:
    """A document of one frame inside ``margin``, leaving ``bands`` (above, below) for what
    ``on_page`` draws on every page (the heading; the footer beside Page X of Y)."""
    head, foot = bands
    width, height = pagesize
    frame = Frame(
        margin,
        margin + foot,
        width - 2 * margin,
        height - 2 * margin - head - foot,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    return BaseDocTemplate(
        out,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin + head,
        bottomMargin=margin + foot,
        title=title,
        author=author,
        pageTemplates=[PageTemplate("page", [frame], onPage=on_page)],
    )
