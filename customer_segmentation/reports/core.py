"""Building blocks of the static reports: read-only warehouse access, escaping, HTML pages.

Every page is one self-contained HTML file: plotly.js is inlined once in <head> (only on pages that
draw figures), figures are emitted with ``include_plotlyjs=False``, there is no <script src>, no CDN,
no MathJax and no network request of any kind. Every string that comes from the data goes through
``esc`` before it reaches HTML or a plotly label (plotly renders ``&lt;`` as ``<``, as text).
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, Sequence

import duckdb
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs


class ReportError(Exception):
    """A problem the user must fix (missing database, nothing built yet)."""


class MissingMart(Exception):
    """A section cannot render because a mart (or one of its columns) is absent."""

    def __init__(self, names: Sequence[str], detail: str = ""):
        self.names = list(names)
        label = "mart" if len(self.names) == 1 else "marts"
        message = f"{label} {', '.join(self.names)} missing"
        if detail:
            message += f" ({detail})"
        super().__init__(message)


def esc(value) -> str:
    """HTML-escape any value coming from the data (also used for plotly labels and hover text)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


def esc_list(values: Iterable) -> list[str]:
    return [esc(v) for v in values]


# --------------------------------------------------------------------------------------------
# Warehouse
# --------------------------------------------------------------------------------------------

class Warehouse:
    """Read-only DuckDB connection with helpers to find marts and their columns."""

    def __init__(self, path: Path):
        self.path = Path(path)
        if not self.path.exists():
            raise ReportError(
                f"database file {self.path} does not exist: run `make build` (or `dbt build`) first, "
                "or pass --db PATH / set DUCKDB_PATH"
            )
        try:
            self.con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.Error as exc:  # locked by a running build, not a DuckDB file, ...
            raise ReportError(f"cannot open {self.path} read-only: {exc}") from exc
        rows = self.con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = current_schema()"
        ).fetchall()
        self._columns: dict[str, list[str]] = {}
        for table, column in rows:
            self._columns.setdefault(table.lower(), []).append(column.lower())

    def close(self) -> None:
        self.con.close()

    def has(self, table: str) -> bool:
        return table.lower() in self._columns

    def columns(self, table: str) -> list[str]:
        return self._columns.get(table.lower(), [])

    def has_columns(self, table: str, columns: Iterable[str]) -> bool:
        present = set(self.columns(table))
        return all(c.lower() in present for c in columns)

    def require(self, *tables: str) -> None:
        missing = [t for t in tables if not self.has(t)]
        if missing:
            raise MissingMart(missing)

    def require_columns(self, table: str, columns: Iterable[str]) -> None:
        self.require(table)
        present = set(self.columns(table))
        missing = [c for c in columns if c.lower() not in present]
        if missing:
            raise MissingMart([table], f"columns {', '.join(missing)} not found")

    def df(self, sql: str, params: Sequence | None = None) -> pd.DataFrame:
        return self.con.execute(sql, list(params or [])).df()

    def rows(self, sql: str, params: Sequence | None = None) -> list[tuple]:
        return self.con.execute(sql, list(params or [])).fetchall()

    def one(self, sql: str, params: Sequence | None = None) -> tuple:
        return self.con.execute(sql, list(params or [])).fetchone()


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------

def fmt_int(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{int(round(float(value))):,}"


# Label of money on every page: the build's var currency_label (mart input_summary), R$ for an older build.
_CURRENCY = ["R$"]


def set_currency(label: str | None) -> None:
    _CURRENCY[0] = str(label) if label else "R$"


def currency() -> str:
    """The money label, HTML-escaped (it comes from the build's vars)."""
    return esc(_CURRENCY[0])


def fmt_money(value) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{currency()} {float(value):,.2f}"


def fmt_pct(value, digits: int = 1) -> str:
    if value is None or pd.isna(value):
        return "–"
    return f"{100 * float(value):.{digits}f} %"


def fmt_num(value, digits: int = 3) -> str:
    if value is None or pd.isna(value):
        return "–"
    if isinstance(value, (int,)) and not isinstance(value, bool):
        return f"{value:,}"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number.is_integer() and abs(number) < 1e15:
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def fmt_auto(value) -> str:
    """Default cell formatting for generic tables (returns plain text, escaped later)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (datetime, pd.Timestamp)):
        if pd.isna(value):
            return ""
        return value.strftime("%Y-%m-%d") if (value.hour, value.minute, value.second) == (0, 0, 0) \
            else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return ""
        return fmt_num(value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return fmt_auto(value.item())
    return str(value)


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}
TEMPLATE = "plotly_white"

CSS = """
:root { --ink:#1f2a37; --muted:#6b7280; --line:#e5e7eb; --accent:#2563eb; --bg:#f8fafc; }
* { box-sizing: border-box; }
body { margin:0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color:var(--ink); background:var(--bg); }
header { background:#0f172a; color:#fff; padding:14px 28px; }
header h1 { margin:0; font-size:20px; font-weight:600; }
header .sub { color:#cbd5e1; font-size:13px; margin-top:4px; }
nav { background:#fff; border-bottom:1px solid var(--line); padding:8px 28px; position:sticky; top:0; z-index:10; }
nav a { color:var(--accent); text-decoration:none; margin-right:16px; font-size:14px; }
nav a.current { color:var(--ink); font-weight:600; }
nav span.off { color:#9ca3af; margin-right:16px; font-size:14px; }
main { padding:18px 28px 40px; max-width:1400px; }
section.block { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 18px; margin:14px 0; }
section.block h2 { font-size:17px; margin:0 0 6px; }
p.note, div.note { color:var(--muted); font-size:13px; margin:4px 0 8px; }
.kpis { display:flex; flex-wrap:wrap; gap:12px; }
.kpi { background:#fff; border:1px solid var(--line); border-radius:8px; padding:10px 16px; min-width:170px; }
.kpi .v { font-size:22px; font-weight:600; }
.kpi .l { font-size:12px; color:var(--muted); text-transform:uppercase; letter-spacing:.03em; }
table.data { border-collapse:collapse; font-size:13px; width:auto; max-width:100%; }
table.data th, table.data td { border-bottom:1px solid var(--line); padding:4px 10px; text-align:left; vertical-align:top; }
table.data th { background:#f1f5f9; position:sticky; top:0; }
table.data td.num { text-align:right; font-variant-numeric: tabular-nums; white-space:nowrap; }
div.controls { position:sticky; top:37px; z-index:9; background:#fff; border:1px solid var(--line); border-radius:8px; padding:8px 14px; margin:14px 0 0; }
details summary { cursor:pointer; color:var(--accent); font-size:12px; }
dl.kv { display:grid; grid-template-columns: 160px 1fr; gap:4px 12px; font-size:13px; margin:6px 0 4px; }
dl.kv dt { color:var(--muted); } dl.kv dd { margin:0; }
div.scroll { max-height:560px; overflow:auto; }
.error { color:#b91c1c; background:#fef2f2; border:1px solid #fecaca; border-radius:6px; padding:8px 12px; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; background:#e5e7eb; }
.badge.good { background:#dcfce7; color:#166534; } .badge.bad { background:#fee2e2; color:#991b1b; }
.badge.neutral { background:#fef9c3; color:#854d0e; } .badge.muted { background:#e5e7eb; color:#374151; }
label.selector { font-size:14px; margin-right:10px; } label.selector select { margin-left:6px; font-size:14px; }
.cards { display:grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap:14px; }
.card { background:#fff; border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
.card h3 { margin:0 0 6px; font-size:16px; } .card a { color:var(--accent); }
"""

# Trace selectors: a <select class="trace-selector" data-targets="id1 id2"> shows, in every target
# figure, the traces whose meta is "opt:<index>" for the chosen index; traces without such a meta
# stay as they are. Plain DOM + Plotly.restyle, no network.
SELECTOR_JS = """
(function () {
  function apply(sel) {
    var idx = sel.value;
    (sel.getAttribute('data-targets') || '').split(' ').forEach(function (id) {
      var gd = document.getElementById(id);
      if (!gd || !gd.data || !window.Plotly) { return; }
      var vis = gd.data.map(function (t) {
        if (typeof t.meta === 'string' && t.meta.indexOf('opt:') === 0) { return t.meta === 'opt:' + idx; }
        return t.visible === undefined ? true : t.visible;
      });
      window.Plotly.restyle(gd, {visible: vis});
    });
  }
  document.querySelectorAll('select.trace-selector').forEach(function (sel) {
    sel.addEventListener('change', function () { apply(sel); });
  });
})();
"""


@dataclass
class Page:
    slug: str
    title: str
    intro: str = ""  # trusted template text (no data)
    blocks: list[str] = field(default_factory=list)
    n_figures: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def filename(self) -> str:
        return f"{self.slug}.html"

    def _next_id(self) -> str:
        self.n_figures += 1
        return f"{self.slug}-fig-{self.n_figures}"

    def figure_html(self, fig: go.Figure, height: int | None = None) -> tuple[str, str]:
        div_id = self._next_id()
        fig.update_layout(template=TEMPLATE, margin=dict(l=60, r=30, t=50, b=50))
        if height:
            fig.update_layout(height=height)
        body = pio.to_html(
            fig,
            include_plotlyjs=False,
            include_mathjax=False,
            full_html=False,
            div_id=div_id,
            config=PLOTLY_CONFIG,
            default_height=f"{height or 450}px",
            validate=True,
        )
        return div_id, f'<div class="figure" data-figure="{div_id}">{body}</div>'

    def section(self, title: str, *parts: str, note: str = "") -> None:
        """Append a block; title/note are trusted template text, parts are already-safe HTML."""
        note_html = f'<p class="note">{note}</p>' if note else ""
        self.blocks.append(
            f'<section class="block"><h2>{html.escape(title)}</h2>{note_html}{"".join(parts)}</section>'
        )

    def add_figure(self, title: str, fig: go.Figure, note: str = "", height: int | None = None,
                   before: str = "") -> str:
        div_id, body = self.figure_html(fig, height)
        self.section(title, before, body, note=note)
        return div_id

    def add_controls(self, controls_html: str, note: str = "") -> None:
        """A sticky bar of page-level controls (already-safe HTML)."""
        note_html = f' <span class="note">{note}</span>' if note else ""
        self.blocks.append(f'<div class="controls">{controls_html}{note_html}</div>')

    def add_error(self, title: str, message: str) -> None:
        self.warnings.append(message)
        self.section(title, f'<div class="error">{esc(message)}</div>')

    def render(self, nav_html: str, subtitle: str) -> str:
        uses_plotly = self.n_figures > 0
        plotly_js = ""
        if uses_plotly:
            plotly_js = (
                '<script type="text/javascript" data-bundle="plotly.js">'
                + get_plotlyjs()
                + "</script>"
            )
        selector_js = (
            f'<script type="text/javascript">{SELECTOR_JS}</script>' if "trace-selector" in "".join(self.blocks) else ""
        )
        intro = f'<p class="note">{self.intro}</p>' if self.intro else ""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="report-figures" content="{self.n_figures}">'
            f'<meta name="report-page" content="{html.escape(self.slug)}">'
            '<link rel="icon" href="data:,">'
            f"<title>{html.escape(self.title)} · customer segmentation</title>"
            f"<style>{CSS}</style>{plotly_js}</head><body>"
            f"<header><h1>{html.escape(self.title)}</h1><div class=\"sub\">{subtitle}</div></header>"
            f"{nav_html}<main>{intro}{''.join(self.blocks)}</main>{selector_js}</body></html>\n"
        )


# --------------------------------------------------------------------------------------------
# HTML pieces (all data escaped here)
# --------------------------------------------------------------------------------------------

def kpis_html(items: Sequence[tuple[str, str]]) -> str:
    cards = "".join(
        f'<div class="kpi"><div class="v">{esc(value)}</div><div class="l">{esc(label)}</div></div>'
        for label, value in items
    )
    return f'<div class="kpis">{cards}</div>'


Formatter = Callable[[object], str]


def table_html(
    df: pd.DataFrame,
    formats: dict[str, Formatter] | None = None,
    labels: dict[str, str] | None = None,
    badge: dict[str, Callable[[object], str]] | None = None,
    scroll: bool = True,
    max_rows: int | None = None,
) -> str:
    """A plain HTML table; every header and cell is escaped."""
    formats = formats or {}
    labels = labels or {}
    badge = badge or {}
    shown = df if max_rows is None else df.head(max_rows)
    numeric = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])}
    head = "".join(f"<th>{esc(labels.get(c, c))}</th>" for c in shown.columns)
    body_rows = []
    for row in shown.itertuples(index=False, name=None):
        cells = []
        for column, value in zip(shown.columns, row):
            text = formats[column](value) if column in formats else fmt_auto(value)
            cls = ' class="num"' if column in numeric else ""
            if column in badge:
                kind = badge[column](value)
                cells.append(f'<td{cls}><span class="badge {kind}">{esc(text)}</span></td>')
            else:
                cells.append(f"<td{cls}>{esc(text)}</td>")
        body_rows.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if max_rows is not None and len(df) > max_rows:
        more = f'<p class="note">Showing {max_rows:,} of {len(df):,} rows.</p>'
    table = f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body_rows)}</tbody></table>'
    if scroll:
        table = f'<div class="scroll">{table}</div>'
    return table + more


def selector_html(label: str, options: Sequence[str], targets: Sequence[str], select_id: str) -> str:
    """A <select> that switches the visible option traces (meta 'opt:i') of the target figures."""
    opts = "".join(f'<option value="{i}">{esc(text)}</option>' for i, text in enumerate(options))
    return (
        f'<label class="selector">{html.escape(label)}<select id="{html.escape(select_id)}" '
        f'class="trace-selector" data-targets="{html.escape(" ".join(targets))}">{opts}</select></label>'
    )


def option_meta(index: int) -> str:
    return f"opt:{index}"


def figure_div_id(page: Page, offset: int = 1) -> str:
    """The id the next figure added to ``page`` will get (offset 1) or the one after (2), ..."""
    return f"{page.slug}-fig-{page.n_figures + offset}"


ABC_ORDER = ("A", "B", "C")
XYZ_ORDER = ("X", "Y", "Z", "Short History", "Single Purchase")
# A = blues, B = greens, C = oranges; X darkest … Single Purchase lightest
SEGMENT_COLORS = {
    "A_X": "#08306b", "A_Y": "#2171b5", "A_Z": "#6baed6", "A_Short History": "#9ecae1", "A_Single Purchase": "#c6dbef",
    "B_X": "#00441b", "B_Y": "#238b45", "B_Z": "#74c476", "B_Short History": "#a1d99b", "B_Single Purchase": "#c7e9c0",
    "C_X": "#7f2704", "C_Y": "#d94801", "C_Z": "#fd8d3c", "C_Short History": "#fdae6b", "C_Single Purchase": "#fdd0a2",
}


def segment_order(values: Iterable) -> list:
    """ABC-XYZ labels in matrix order (A_X, A_Y, A_Z, A_Single Purchase, B_X, …); unknown labels last."""
    def key(value):
        abc, _, xyz = str(value).partition("_")
        return (ABC_ORDER.index(abc) if abc in ABC_ORDER else 9,
                XYZ_ORDER.index(xyz) if xyz in XYZ_ORDER else 9, str(value))
    return sorted(values, key=key)
