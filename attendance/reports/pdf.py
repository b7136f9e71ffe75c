"""PDF versions of the reports, drawn with ReportLab (a maintained, pure-Python PDF library).

Every report is a title, a few lines of context and titled tables: the same tables the CSV is made of."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

Section = tuple[str, list[list[str]]]

_TABLE_STYLE = TableStyle([
    ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
    ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1f4e79")),
    ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
    ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#eef3f8")]),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9aa9b8")),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
])


def report_pdf(*, title: str, lines: list[str], sections: list[Section], wide: bool = False) -> bytes:
    """A PDF of titled tables (header row first); long tables continue on the next page with their header."""
    buffer = io.BytesIO()
    page = landscape(A4) if wide else A4
    document = SimpleDocTemplate(buffer, pagesize=page, title=title, author="Smart Attendance",
                                 leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm)
    styles = getSampleStyleSheet()
    story: list = [Paragraph(escape(title), styles["Title"])]
    story += [Paragraph(escape(line), styles["Normal"]) for line in lines]
    for heading, rows in sections:
        story += [Spacer(1, 5 * mm), Paragraph(escape(heading), styles["Heading2"])]
        if len(rows) <= 1:
            story.append(Paragraph("None.", styles["Italic"]))
            continue
        cell = styles["BodyText"].clone("cell", fontSize=8, leading=9.5)
        data = [rows[0]] + [[Paragraph(escape(str(value)), cell) for value in row] for row in rows[1:]]
        table = LongTable(data, repeatRows=1, hAlign="LEFT")
        table.setStyle(_TABLE_STYLE)
        story.append(table)
    document.build(story)
    return buffer.getvalue()
