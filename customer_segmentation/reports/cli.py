"""Command line of the report renderer: render every section whose marts exist, then the index."""
from __future__ import annotations

import argparse
import html
import os
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import abc_xyz, clusters, cohorts, geography, hypotheses, lifetime_value, over_time, overview, rfm
from .core import MissingMart, Page, ReportError, Warehouse, set_currency

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = (overview, rfm, abc_xyz, over_time, cohorts, geography, clusters, lifetime_value, hypotheses)


@dataclass
class Outcome:
    slug: str
    title: str
    status: str  # "ok" | "skipped" | "failed"
    message: str = ""
    path: Path | None = None
    size: int = 0
    figures: int = 0


def default_db() -> Path:
    """Same default as profiles.yml: DUCKDB_PATH, else warehouse.duckdb at the project root."""
    raw = os.environ.get("DUCKDB_PATH") or "warehouse.duckdb"
    path = Path(raw).expanduser()
    return path if path.is_absolute() else ROOT / path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Render the static HTML reports from the marts of a built DuckDB warehouse.",
    )
    parser.add_argument("--db", type=Path, default=None,
                        help="DuckDB file to read (default: $DUCKDB_PATH, else warehouse.duckdb in the project root)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="output folder (default: reports/)")
    parser.add_argument("--strict", action="store_true",
                        help="exit non-zero when any section is skipped because a mart is missing")
    return parser.parse_args(argv)


def _nav(current: str, outcomes: list[Outcome]) -> str:
    links = ['<a href="index.html"' + (' class="current"' if current == "index" else "") + ">Index</a>"]
    for o in outcomes:
        if o.status == "ok":
            cls = ' class="current"' if o.slug == current else ""
            links.append(f'<a href="{o.slug}.html"{cls}>{html.escape(o.title)}</a>')
        else:
            links.append(f'<span class="off" title="{html.escape(o.message)}">{html.escape(o.title)}</span>')
    return "<nav>" + "".join(links) + "</nav>"


def _human(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def render(db: Path, out: Path, log=print) -> list[Outcome]:
    wh = Warehouse(db)
    try:
        present = [s for s in SECTIONS if all(wh.has(t) for t in s.REQUIRES)]
        if not present:
            needed = sorted({t for s in SECTIONS for t in s.REQUIRES})
            raise ReportError(
                f"no marts found in {db}: none of {', '.join(needed)} exist. "
                "Run `make build` (dbt build) first."
            )
        out.mkdir(parents=True, exist_ok=True)
        log(f"render_reports: reading {db} (read-only), writing {out}")
        # money label of the build (var currency_label); builds from before input_summary existed are Olist (R$)
        set_currency(wh.one("select currency_label from input_summary")[0] if wh.has("input_summary") else "R$")
        pages: list[tuple[Page, Outcome]] = []
        outcomes: list[Outcome] = []
        total = len(SECTIONS)
        for number, section in enumerate(SECTIONS, start=1):
            outcome = Outcome(section.SLUG, section.TITLE, "ok")
            outcomes.append(outcome)
            started = time.perf_counter()
            page = Page(section.SLUG, section.TITLE, section.INTRO)
            try:
                wh.require(*section.REQUIRES)
                section.build(wh, page)
            except MissingMart as exc:
                outcome.status, outcome.message = "skipped", str(exc)
                log(f"[{number}/{total}] {section.TITLE}: section skipped: {exc}")
                continue
            except Exception as exc:  # a bug or an unexpected schema: report it, render the rest
                outcome.status, outcome.message = "failed", f"{type(exc).__name__}: {exc}"
                log(f"[{number}/{total}] {section.TITLE}: section FAILED: {outcome.message}")
                log("".join(traceback.format_exception(exc)).rstrip())
                continue
            outcome.figures = page.n_figures
            pages.append((page, outcome))
            log(f"[{number}/{total}] {section.TITLE}: rendered {page.n_figures} figure(s) "
                f"in {time.perf_counter() - started:.1f}s"
                + (f" ({len(page.warnings)} part(s) unavailable: {'; '.join(page.warnings)})" if page.warnings else ""))
        subtitle = html.escape(f"customer_segmentation · built from {db.name} · rendered {datetime.now():%Y-%m-%d %H:%M}")
        for page, outcome in pages:
            path = out / page.filename
            path.write_text(page.render(_nav(page.slug, outcomes), subtitle), encoding="utf-8")
            outcome.path, outcome.size = path, path.stat().st_size
        for outcome in outcomes:  # no stale page from an earlier run for a section that did not render
            if outcome.status != "ok":
                stale = out / f"{outcome.slug}.html"
                if stale.exists():
                    stale.unlink()
        index = out / "index.html"
        index.write_text(_index_html(outcomes, subtitle), encoding="utf-8")
        for outcome in outcomes:
            if outcome.status == "ok":
                log(f"  {outcome.slug + '.html':<18} {_human(outcome.size):>9}  {outcome.figures} figure(s)")
            else:
                log(f"  {outcome.slug + '.html':<18} {outcome.status}: {outcome.message}")
        log(f"  {'index.html':<18} {_human(index.stat().st_size):>9}")
        return outcomes
    finally:
        wh.close()


def _index_html(outcomes: list[Outcome], subtitle: str) -> str:
    cards = []
    for o in outcomes:
        if o.status == "ok":
            body = (f'<p><a href="{o.slug}.html">Open {html.escape(o.title)}</a></p>'
                    f'<p class="note">{o.figures} figure(s) · {_human(o.size)}</p>')
        else:
            body = f'<div class="error">{html.escape(o.status)}: {html.escape(o.message)}</div>'
        cards.append(f'<div class="card" data-section="{o.slug}" data-status="{o.status}">'
                     f"<h3>{html.escape(o.title)}</h3>{body}</div>")
    page = Page("index", "Customer segmentation reports",
                "Static pages rendered from the dbt marts; each opens from disk with no network access.")
    page.blocks.append(f'<div class="cards">{"".join(cards)}</div>')
    return page.render(_nav("index", outcomes), subtitle)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = (args.db.expanduser().resolve() if args.db else default_db())
    out = args.out.expanduser().resolve()
    try:
        outcomes = render(db, out)
    except ReportError as exc:
        print(f"render_reports: error: {exc}", file=sys.stderr)
        return 2
    failed = [o for o in outcomes if o.status == "failed"]
    skipped = [o for o in outcomes if o.status == "skipped"]
    for o in skipped:
        print(f"render_reports: error: section {o.title} skipped: {o.message}", file=sys.stderr)
    for o in failed:
        print(f"render_reports: error: section {o.title} failed: {o.message}", file=sys.stderr)
    print(f"Reports written. Open file://{out / 'index.html'}")
    if failed or (skipped and args.strict):
        return 1
    return 0
