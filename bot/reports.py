"""Documents for managers: a case review as PDF and DOCX, and the emerging-themes bar chart.

PDF with fpdf2, DOCX with python-docx (people paste from it into case-recording systems), the chart
with matplotlib. The PDF uses the DejaVu Sans font that matplotlib ships, so any character a user
typed can be printed.
"""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from dialogues.review import ReviewReport

GRID_WIDTHS = (120, 60)
ACTION_WIDTHS = (62, 38, 28, 52)


def _font(style: str = "") -> Path:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if style == "B" else "DejaVuSans.ttf"
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


def _sections(report: ReviewReport, kb, say):
    """What both documents hold, in order: (heading, rows) for the grid, findings and actions."""
    grid = [(f.title, f.grade) for f in report.findings]
    findings = []
    for finding in report.findings:
        if finding.evidence:
            learning = [say.review_learning.format(
                text=kb.learning_points[i].text, source=kb.sources[kb.learning_points[i].source].organisation,
                date=kb.sources[kb.learning_points[i].source].date_text, id=i).strip()
                for i in finding.learning_points]
            findings.append((f"{finding.title} ({finding.grade})",
                             say.review_evidence.format(evidence=finding.evidence), learning))
    actions = [(a.what, a.who, dt.date.fromisoformat(a.when).strftime("%-d %B %Y"), a.measure)
               for a in report.actions]
    return grid, findings, actions


def review_pdf(report: ReviewReport, kb, say) -> bytes:
    from fpdf import FPDF

    grid, findings, actions = _sections(report, kb, say)
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", fname=str(_font()))
    pdf.add_font("DejaVu", style="B", fname=str(_font("B")))
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    pdf.set_font_size(15)
    pdf.multi_cell(0, 8, say.review_title.format(reference=report.reference), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font_size(10)
    pdf.multi_cell(0, 6, say.review_agencies.format(agencies=report.agencies), new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.ln(3)
    _pdf_heading(pdf, say.review_grades)
    with pdf.table(col_widths=GRID_WIDTHS, text_align="LEFT", first_row_as_headings=False) as table:
        for title, grade in grid:
            row = table.row()
            row.cell(title)
            row.cell(grade)
    pdf.ln(3)
    _pdf_heading(pdf, say.review_findings)
    for title, evidence, learning in findings:
        pdf.set_font_size(11)
        pdf.multi_cell(0, 6, title, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.set_font_size(10)
        pdf.multi_cell(0, 5, evidence, new_x="LMARGIN", new_y="NEXT", align="L")
        for line in learning:
            pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT", align="L")
        pdf.ln(2)
    _pdf_heading(pdf, say.review_actions)
    if not actions:
        pdf.multi_cell(0, 6, say.review_no_actions, new_x="LMARGIN", new_y="NEXT", align="L")
    else:
        with pdf.table(col_widths=ACTION_WIDTHS, text_align="LEFT") as table:
            for cells in [("What", "Who", "By when", "How we will know"), *actions]:
                row = table.row()
                for cell in cells:
                    row.cell(cell)
    return bytes(pdf.output())


def _pdf_heading(pdf, text: str) -> None:
    pdf.set_font_size(13)
    pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT", align="L")
    pdf.set_font_size(10)


def review_docx(report: ReviewReport, kb, say) -> bytes:
    from docx import Document

    grid, findings, actions = _sections(report, kb, say)
    document = Document()
    document.add_heading(say.review_title.format(reference=report.reference), level=1)
    document.add_paragraph(say.review_agencies.format(agencies=report.agencies))
    document.add_heading(say.review_grades, level=2)
    table = document.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for title, grade in grid:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = title, grade
    document.add_heading(say.review_findings, level=2)
    for title, evidence, learning in findings:
        document.add_heading(title, level=3)
        document.add_paragraph(evidence)
        for line in learning:
            document.add_paragraph(line, style="List Bullet")
    document.add_heading(say.review_actions, level=2)
    if not actions:
        document.add_paragraph(say.review_no_actions)
    else:
        table = document.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, heading in zip(table.rows[0].cells, ("What", "Who", "By when", "How we will know")):
            cell.text = heading
        for action in actions:
            for cell, value in zip(table.add_row().cells, action):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def themes_chart(shares: list[tuple[str, float]], title: str) -> bytes:
    """A horizontal bar chart of the share of cases (0-100) in which each theme was found."""
    from matplotlib.figure import Figure  # not pyplot: no global state, so safe in a worker thread

    names = [name for name, _ in shares][::-1]
    values = [value for _, value in shares][::-1]
    figure = Figure(figsize=(8, 0.45 * len(shares) + 1.2), dpi=110)
    axes = figure.subplots()
    bars = axes.barh(names, values, color="#3b6ea5")
    axes.bar_label(bars, labels=[f"{v:.0f}%" for v in values], padding=3)
    axes.set_xlim(0, 110)
    axes.set_xlabel("share of case reviews (%)")
    axes.set_title(title, fontsize=11)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
