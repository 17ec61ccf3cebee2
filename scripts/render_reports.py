#!/usr/bin/env python3
"""Render the static, offline HTML reports from the marts of a built DuckDB warehouse.

    python scripts/render_reports.py [--db PATH] [--out reports/] [--strict]

Reads only the marts (read-only connection; charts are aggregated in SQL), writes reports/index.html
and one self-contained page per topic. A section whose mart is missing is skipped with a message
naming the mart; the others still render. Exit codes: 0 = rendered (sections may be skipped unless
--strict), 1 = a section failed (or was skipped under --strict), 2 = no database / no marts at all.
The section code lives in the package customer_segmentation.reports, one module per page.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root: package customer_segmentation

from customer_segmentation.reports.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
