"""The MOR's PDF as an inspector reads it, on a generated month (report_month.py): the pages
rendered to images (Debian's pdftoppm), every plant day's row whole on one line of one page
with every column the permit asks for and who was in charge, exceedances shaded and
starred where the raw data put them, the summary rows equal to what the raw data give
(computed here, not by the exports), page X of Y and the heading on every page, and text
people typed printed as text, never as ReportLab's markup."""

from __future__ import annotations

import io
import math
import re
import shutil
import statistics
import subprocess
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from dashboards.exports.mor import InCharge, MonthlyReport
from dashboards.exports.mor_pdf import to_pdf
from tests.dashboards.exports import report_month as rm

SETUP_HINT = "run scripts/setup-test-tools.sh (it installs Debian's poppler-utils)"
DPI = 100
DAY_LABEL = re.compile(r"^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) (\d\d)$")
# A value as the report prints it: a number (maybe below detection, maybe starred) or a
# missing value's short code.
VALUE = re.compile(r"^(<?-?\d[\d.e+-]*\*?|NR|PC|BQ|NS|NW)$")
PINK = (0xF4, 0xB6, 0xB0)  # the shade of a value beyond a limit


@dataclass(frozen=True)
class Text:
    text: str
    x: float
    y: float


def _runs(page: object) -> list[Text]:
    found: list[Text] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            found.append(Text(text.strip(), x, y))

    page.extract_text(visitor_text=visit)  # type: ignore[attr-defined]
    return found


def page_texts(pdf: bytes) -> list[list[Text]]:
    """Each page's text runs with where they start, in PDF points from the bottom left."""
    return [_runs(page) for page in PdfReader(io.BytesIO(pdf)).pages]


def line_of(texts: list[Text], anchor: Text) -> list[Text]:
    """The runs on the anchor's line, left to right."""
    return sorted((t for t in texts if abs(t.y - anchor.y) < 1.0), key=lambda t: t.x)


def render(pdf: bytes, tmp: Path) -> list[Image.Image]:
    tool = shutil.which("pdftoppm")
    if tool is None:
        pytest.fail(f"pdftoppm is not installed: {SETUP_HINT}")
    (tmp / "mor.pdf").write_bytes(pdf)
    subprocess.run(
        [tool, "-r", str(DPI), "-png", str(tmp / "mor.pdf"), str(tmp / "page")],
        check=True,
        timeout=60,
    )
    return [Image.open(p).convert("RGB") for p in sorted(tmp.glob("page-*.png"))]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[MonthlyReport, bytes]:
    report = rm.report(tmp_path_factory.mktemp("permit"))
    return report, to_pdf(report)


# --- what the raw data say, computed here -------------------------------------------------


def _by_day(hours: list[rm.Hour], tag: str) -> dict[date, list[rm.Hour]]:
    out: dict[date, list[rm.Hour]] = defaultdict(list)
    for h in hours:
        if h.tag == tag:
            out[h.bucket.astimezone(rm.TZ).date()].append(h)
    return out


def expected_daily() -> dict[str, dict[date, float | None]]:
    """Each column's daily value from the raw rows (None where the report must say why
    not), keyed as the report's columns are (``daily:source``); lab values with a result
    below detection at half its limit, as the permit asks."""
    hours = rm.hours()
    out: dict[str, dict[date, float | None]] = {}
    for tag in ("effluent.total", "influent.total"):
        days = _by_day(hours, tag)
        last = {d: max(rows, key=lambda h: h.bucket).last for d, rows in days.items()}
        out[f"total:{tag}"] = {d: last[d] - last[d - timedelta(days=1)] for d in rm.DAYS}
    for kind, tag, pick in (
        ("max", "effluent.flow", lambda rows: max(h.high for h in rows)),
        ("min", "effluent.ph", lambda rows: min(h.low for h in rows)),
        ("max", "effluent.ph", lambda rows: max(h.high for h in rows)),
        ("hours", "blower.running", lambda rows: sum(h.mean for h in rows)),
        ("avg", "aeration.do", lambda rows: statistics.fmean(h.mean for h in rows)),
        ("max", "effluent.turbidity", lambda rows: max(h.high for h in rows)),
        ("min", "cl2.residual", lambda rows: min(h.low for h in rows)),
    ):
        days = _by_day(hours, tag)
        values: dict[date, float | None] = {}
        for d in rm.DAYS:
            good = [h for h in days.get(d, []) if h.n_good]
            # A day needs good readings in three quarters of its hours.
            values[d] = pick(good) if len(good) >= 0.75 * 24 else None
        out[f"{kind}:{tag}"] = values
    lab: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for d, _, analyte, value, qualifier, dl in rm.lab():
        below = qualifier in ("<", "ND")
        lab[analyte][d].append((dl or 0) / 2 if below else float(value or 0))
    for analyte in ("bod5", "tss", "ecoli"):
        out[f"lab:{analyte}"] = {d: statistics.fmean(v) for d, v in lab[analyte].items()}
    return out


def weekly_max(daily: dict[date, float | None]) -> float:
    """The highest average of a calendar week (Sunday to Saturday) whose Saturday is in the
    month, over its days with a value, the month before's included."""
    averages = []
    for saturday in (d for d in rm.DAYS if d.weekday() == 5):
        week = [saturday - timedelta(days=i) for i in range(7)]
        values = [daily[d] for d in week if daily.get(d) is not None]
        averages.append(statistics.fmean(values))  # type: ignore[arg-type]
    return max(averages)


def expected_summary() -> dict[str, list[float]]:
    """Each summary row's values, left to right (columns without that statistic print
    nothing there)."""
    daily = expected_daily()
    in_month = {k: [v[d] for d in rm.DAYS if v.get(d) is not None] for k, v in daily.items()}
    m = {k: [x for x in v if x is not None] for k, v in in_month.items()}
    geomean = math.exp(statistics.fmean(math.log(max(x, 1.0)) for x in m["lab:ecoli"]))
    return {
        "Monthly avg": [
            statistics.fmean(m["lab:bod5"]),
            statistics.fmean(m["lab:tss"]),
            statistics.fmean(m["total:influent.total"]),
            statistics.fmean(m["avg:aeration.do"]),
            statistics.fmean(m["max:effluent.turbidity"]),
            statistics.fmean(m["min:cl2.residual"]),
        ],
        "7-day avg (max)": [weekly_max(daily["lab:bod5"])],
        "Daily max": [
            max(m["max:effluent.flow"]),
            max(m["max:effluent.ph"]),
            max(m["lab:tss"]),
            max(m["total:influent.total"]),
            max(m["avg:aeration.do"]),
            max(m["max:effluent.turbidity"]),
            max(m["min:cl2.residual"]),
        ],
        "Daily min": [
            min(m["min:effluent.ph"]),
            min(m["total:influent.total"]),
            min(m["avg:aeration.do"]),
            min(m["max:effluent.turbidity"]),
            min(m["min:cl2.residual"]),
        ],
        "Geo. mean": [geomean],
        "Total": [sum(m["total:effluent.total"]), sum(m["hours:blower.running"])],
    }


def _number(text: str) -> float:
    return float(text.rstrip("*").lstrip("<"))


# --- the tests ------------------------------------------------------------------------------


def test_every_days_row_is_whole_on_one_line_of_one_page(month, tmp_path):
    report, pdf = month
    images = render(pdf, tmp_path)
    pages = page_texts(pdf)
    assert len(images) == len(pages) >= 1
    seen: dict[int, int] = defaultdict(int)
    for n, (texts, image) in enumerate(zip(pages, images, strict=True)):
        height = image.height * 72 / DPI
        for anchor in (t for t in texts if DAY_LABEL.match(t.text)):
            day = int(DAY_LABEL.match(anchor.text).group(2))  # type: ignore[union-attr]
            seen[day] += 1
            row = line_of(texts, anchor)[1:]
            hours, values, charge = row[0], row[1:-1], row[-1]
            assert hours.text in {"23", "24", "25"}, (n, anchor, row)
            # Every column the permit asks for, on this line: a value or a code.
            assert len(values) == len(report.columns), (anchor.text, [t.text for t in row])
            assert all(VALUE.match(v.text) for v in values), [v.text for v in values]
            assert charge.text.startswith("NN II, CC III, OO II"), charge.text
            # The row's line is on the page's image, inside its margins.
            assert 0.3 * 72 < anchor.y < height - 0.3 * 72
    # Each plant day once: no day is continued in another table or on another page.
    assert seen == {d.day: 1 for d in rm.DAYS}


def test_exceedances_are_shaded_starred_and_counted_where_the_raw_data_put_them(month, tmp_path):
    report, pdf = month
    daily = expected_daily()
    beyond = {("min:effluent.ph", d) for d, v in daily["min:effluent.ph"].items() if v and v < 6.5}
    beyond |= {("max:effluent.ph", d) for d, v in daily["max:effluent.ph"].items() if v and v > 9}
    beyond |= {("lab:tss", d) for d, v in daily["lab:tss"].items() if d.month == 2 and v > 45}
    assert beyond == {
        ("min:effluent.ph", rm.LOW_PH_DAY),
        ("max:effluent.ph", rm.HIGH_PH_DAY),
        ("lab:tss", rm.HIGH_TSS_DAY),
    }
    column_of = {i: c.key for i, c in enumerate(report.columns)}
    images = render(pdf, tmp_path)
    starred: set[tuple[str, date]] = set()
    plain_checked = 0
    for texts, image in zip(page_texts(pdf), images, strict=True):
        for anchor in (t for t in texts if DAY_LABEL.match(t.text)):
            day = date(rm.YEAR, rm.MONTH, int(anchor.text[-2:]))
            for i, cell in enumerate(line_of(texts, anchor)[2:-1]):
                # Just left of the value (right-aligned in its cell) and above its baseline:
                # the cell's own ground.
                px = round((cell.x - 3) * DPI / 72)
                py = round(image.height - (cell.y + 3) * DPI / 72)
                shade = image.getpixel((px, py))
                if cell.text.endswith("*"):
                    starred.add((column_of[i], day))
                    assert all(abs(a - b) < 24 for a, b in zip(shade, PINK, strict=True)), (
                        day,
                        cell,
                        shade,
                    )
                else:
                    plain_checked += 1
                    assert shade == (255, 255, 255), (day, cell, shade)
    assert starred == beyond
    assert plain_checked > 300
    # The summary: the 7-day average over 40, the geometric mean over 126; counted as the
    # DMR counts (days beyond a daily limit, other statistics beyond theirs).
    texts = [t for page in page_texts(pdf) for t in page]
    count = next(t for t in texts if t.text.startswith("Exceedances ("))
    assert count.text == "Exceedances (5)"
    counts = [t.text for t in line_of(texts, count)[1:]]
    assert counts == ["1", "1", "1", "1", "1"]  # pH min, pH max, BOD (7-day), TSS, E. coli


def test_summary_rows_equal_the_raw_datas(month):
    _, pdf = month
    texts = [t for page in page_texts(pdf) for t in page]
    expected = expected_summary()
    for label, values in expected.items():
        anchor = next(t for t in texts if t.text == label)
        printed = [t.text for t in line_of(texts, anchor)[1:]]
        assert len(printed) == len(values), (label, printed)
        for text, value in zip(printed, values, strict=True):
            # Printed to four significant digits (whole numbers from 10,000).
            assert _number(text) == pytest.approx(value, rel=6e-4, abs=0.5), (label, text, value)
    # Limits on what the permit limits, under their statistics.
    limits = [t for t in texts if t.text == "limit"]
    assert [[x.text for x in line_of(texts, t)[1:]] for t in limits] == [
        ["<= 25", "<= 25"],
        ["<= 40"],
        ["<= 9", "<= 45"],
        [">= 6.5"],
        ["<= 126"],
    ]


def test_every_page_is_headed_and_numbered(month):
    _, pdf = month
    pages = page_texts(pdf)
    for n, texts in enumerate(pages, start=1):
        runs = {t.text for t in texts}
        assert f"Page {n} of {len(pages)}" in runs
        assert "Monthly Operating Report: Clearwell Demo WWTP (demo-wwtp)" in runs
        assert "Permit UT0099999   February 2024" in runs
    body = " ".join(t.text for t in pages[-1])
    assert "I certify under penalty of law" in body
    assert "Signature:" in body and "Casey Chief" in body


def test_the_month_to_date_says_so_on_every_page(month):
    report, _ = month
    to_date = replace(report, days=report.days[:7], month_to_date=True)
    pages = page_texts(to_pdf(to_date))
    for texts in pages:
        assert any(t.text.startswith("NOT THE WHOLE MONTH: February 2024") for t in texts)
    dates = [t.text for t in pages[0] if DAY_LABEL.match(t.text)]
    assert dates == [f"{d:%a %d}" for d in rm.DAYS[:7]]


HOSTILE = [
    '"><img src=x onerror=alert(1)>',
    '<img src="/etc/passwd"/>',
    "<b>bold</b> & <font size=40>big</font>",
    "Tom & Jerry's <br/> plant",
    "&amp; &lt;not an entity&gt; &#9731;",
]


def _hostile_report(report: MonthlyReport) -> MonthlyReport:
    h = iter(HOSTILE * 4)
    columns = [
        replace(c, label=f"{c.label} {next(h)}", unit=next(h)) if i < 3 else c
        for i, c in enumerate(report.columns)
    ]
    charge = [
        InCharge(HOSTILE[0], HOSTILE[1], f"UT Grade III {HOSTILE[2]}", HOSTILE[3], HOSTILE[4]),
        InCharge("Day", "no one in charge 04:00-05:00", ""),
    ]
    return replace(
        report,
        facility=HOSTILE[0],
        facility_code=HOSTILE[2],
        permit=HOSTILE[1],
        timezone=report.timezone,
        columns=columns,
        days=[replace(d, in_charge=charge) for d in report.days],
        responsible_operator=HOSTILE[3],
        responsible_certificate=HOSTILE[4],
        generated_by=HOSTILE[2],
        charge_basis=HOSTILE[1],
    )


def test_text_people_typed_is_printed_as_text_never_as_markup(month):
    report, _ = month
    pdf = to_pdf(_hostile_report(report))
    reader = PdfReader(io.BytesIO(pdf))
    packed = "".join("".join(p.extract_text().split()) for p in reader.pages)
    for text in HOSTILE:
        assert "".join(text.split()) in packed, text
    # Nothing was embedded: no page carries an image.
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        assert not list(xobjects), xobjects
