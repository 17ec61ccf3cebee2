"""Static HTML reports of the customer_segmentation marts (one module per page)."""
