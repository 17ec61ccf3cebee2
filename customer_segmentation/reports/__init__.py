"""Static HTML reports of the customer_segmentation marts (one module per page; entry point scripts/render_reports.py)."""
