"""Repeat probability for every customer with exactly one purchase so far, from the gradient-boosting
model refit on every customer whose horizon is complete.

Logic: scripts/segmentation_ml (pipeline.customer_repeat_scores_table).
"""
import os
import sys
from pathlib import Path


def _import_ml(package_dir):
    """Import scripts/segmentation_ml from var ml_package_dir (a relative path resolves from the project
    root: the --project-dir / DBT_PROJECT_DIR of this dbt process, else the directory dbt runs in), else
    from the first scripts/ folder holding it at or above those roots."""
    roots = []
    for i, arg in enumerate(sys.argv):
        if arg == "--project-dir" and i + 1 < len(sys.argv):
            roots.append(Path(sys.argv[i + 1]).resolve())
        elif arg.startswith("--project-dir="):
            roots.append(Path(arg.split("=", 1)[1]).resolve())
    if os.environ.get("DBT_PROJECT_DIR"):
        roots.append(Path(os.environ["DBT_PROJECT_DIR"]).resolve())
    roots.append(Path.cwd())
    folders = []
    if package_dir and str(package_dir).strip().lower() not in ("", "none", "null"):
        folder = Path(str(package_dir))
        folders += [folder] if folder.is_absolute() else [root / folder for root in roots]
    folders += [parent / "scripts" for root in roots for parent in (root, *root.parents)]
    for folder in folders:
        if (folder / "segmentation_ml" / "__init__.py").is_file():
            if str(folder.resolve()) not in sys.path:
                sys.path.insert(0, str(folder.resolve()))
            import segmentation_ml

            return segmentation_ml
    raise ImportError(f"segmentation_ml not found in {[str(f) for f in folders]}: set var ml_package_dir")


def model(dbt, session):
    dbt.config(materialized="table")
    ml = _import_ml(dbt.config.get("ml_package_dir"))
    config = {
        "random_seed": dbt.config.get("random_seed"),
        "repeat_horizon_days": dbt.config.get("repeat_horizon_days"),
        "numeric_features": dbt.config.get("numeric_features"),
        "categorical_features": dbt.config.get("categorical_features"),
    }
    first_purchases = dbt.ref("ml_first_purchase_features").df()
    return ml.pipeline.customer_repeat_scores_table(first_purchases, config)
