"""Hypotheses: the hypothesis_results mart, one row per hypothesis with its verdict and details."""
from __future__ import annotations

import html

import pandas as pd

from .core import Page, Warehouse, esc, fmt_auto, fmt_num, table_html

SLUG = "hypotheses"
TITLE = "Hypotheses"
REQUIRES = ("hypothesis_results",)
INTRO = (
    "The 18 product hypotheses, each a model of its own (<code>models/marts/hypotheses</code>) computed at its "
    "proper grain (order, customer, product or day) and collected in the mart <code>hypothesis_results</code>. "
    "A hypothesis is supported only if the estimate has the expected sign, its p-value after Holm's adjustment "
    "across all hypotheses with data is below alpha, and the standardized effect (r, Cohen's d or Cohen's h) "
    "reaches the minimum; groups below the minimum size are not tested. The last column says which condition "
    "decided. Open a row's details for the rule, the method and the seed's original claim; "
    "<code>analyses/</code> show each hypothesis's groups."
)
COMPACT = ["hypothesis_id", "statement", "grain", "group_a", "value_a", "n_a", "group_b", "value_b", "n_b",
           "estimate", "ci_low", "ci_high", "n", "p_value", "p_value_adjusted", "effect_size", "verdict",
           "verdict_reason"]
DETAILS = {  # column -> label, shown under each row when present
    "short_name": "name", "metric": "metric", "method": "method", "expected_direction": "expected direction",
    "verdict_rule": "verdict rule", "std_error": "standard error", "z_statistic": "z statistic",
    "z_critical": "critical z", "comparisons": "comparisons (Bonferroni within the hypothesis)",
    "effect_size_measure": "effect measure", "min_effect_size": "minimum effect",
    "seed_result": "seed's result", "seed_verdict": "seed's verdict", "seed_grain_note": "grain note",
}


def _kind(value) -> str:
    text = str(value or "").strip().lower()
    if text.startswith(("supported", "confirmed")):
        return "good"
    if text.startswith("no data") or not text:
        return "neutral"
    return "muted"


def build(wh: Warehouse, page: Page) -> None:
    cols = wh.columns("hypothesis_results")
    key = "hypothesis_id" if "hypothesis_id" in cols else None
    df = wh.df("select * from hypothesis_results" + (f" order by {key}" if key else ""))
    counts = ""
    if "verdict" in df.columns:
        tally = df["verdict"].fillna("–").value_counts()
        counts = "Verdicts — " + " · ".join(f"{html.escape(str(v))}: {n}" for v, n in tally.items()) + "."
    if not set(COMPACT) <= set(df.columns):  # unexpected shape: show the mart as it is
        page.section("Results", table_html(df, badge={"verdict": _kind} if "verdict" in df.columns else None,
                                           scroll=False), note=counts)
        return
    head = ("<tr><th>id</th><th>hypothesis</th><th>grain</th><th>group A</th><th>group B</th>"
            "<th>estimate (A − B or r)</th><th>95 % CI</th><th>n</th><th>p-value</th>"
            "<th>p-value (Holm)</th><th>effect size</th><th>verdict</th></tr>")
    rows = []
    for rec in df.to_dict("records"):
        details = "".join(
            f"<dt>{esc(label)}</dt><dd>{esc(fmt_auto(rec.get(col)))}</dd>"
            for col, label in DETAILS.items() if col in rec and not _blank(rec.get(col))
        )
        rows.append(
            "<tr>"
            f"<td>{esc(rec['hypothesis_id'])}</td>"
            f"<td>{esc(rec['statement'])}<details><summary>details</summary><dl class=\"kv\">{details}</dl></details></td>"
            f"<td>{esc(rec['grain'])}</td>"
            f"<td>{esc(rec['group_a'])}<br><b>{esc(fmt_num(rec['value_a']))}</b> (n {esc(fmt_num(rec['n_a']))})</td>"
            f"<td>{esc(rec['group_b'])}<br><b>{esc(fmt_num(rec['value_b']))}</b> (n {esc(fmt_num(rec['n_b']))})</td>"
            f"<td class=\"num\">{esc(fmt_num(rec['estimate']))}</td>"
            f"<td class=\"num\">{_ci(rec['ci_low'], rec['ci_high'])}</td>"
            f"<td class=\"num\">{esc(fmt_num(rec['n']))}</td>"
            f"<td class=\"num\">{esc(_fmt_p(rec['p_value']))}</td>"
            f"<td class=\"num\">{esc(_fmt_p(rec['p_value_adjusted']))}</td>"
            f"<td class=\"num\">{esc(_fmt_effect(rec))}</td>"
            f"<td><span class=\"badge {_kind(rec['verdict'])}\">{esc(rec['verdict'])}</span>"
            f"<br><small>{esc(rec['verdict_reason'])}</small>"
            + (f"<br><small>{esc(rec['no_data_reason'])}</small>" if not _blank(rec.get('no_data_reason')) else "")
            + "</td></tr>"
        )
    table = f'<table class="data"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'
    page.section("Results", table, note=counts)


def _blank(value) -> bool:
    try:
        return value is None or bool(pd.isna(value)) or str(value) == ""
    except (TypeError, ValueError):
        return False


def _ci(low, high) -> str:
    if _blank(low) or _blank(high):
        return "–"
    return f"[{esc(fmt_num(low))}, {esc(fmt_num(high))}]"


def _fmt_p(value) -> str:
    """p-values: 3 significant digits, scientific below 0.001 (a p of 1e-30 is not 0.000)."""
    if _blank(value):
        return "–"
    number = float(value)
    return f"{number:.3g}" if number >= 0.001 else f"{number:.2e}"


def _fmt_effect(rec: dict) -> str:
    if _blank(rec.get("effect_size")):
        return "–"
    name = {"pearson_r": "r", "cohens_d": "d", "cohens_h": "h"}.get(str(rec.get("effect_size_measure")), "")
    return f"{name} = {float(rec['effect_size']):.3f}".strip(" =")
