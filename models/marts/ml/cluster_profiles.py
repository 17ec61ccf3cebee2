"""One row per cluster: size, share, feature means in original units, dominant region / churn_risk /
RFM segment / ABC-XYZ segment, and a generated readable name.

Logic: scripts/segmentation_ml (pipeline.cluster_profiles_table).
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
    features = dbt.ref("ml_customer_features").df()
    clusters = dbt.ref("customer_clusters").df()
    rfm = dbt.ref("customer_rfm").df()
    abc_xyz = dbt.ref("customer_abc_xyz").df()
    return ml.pipeline.cluster_profiles_table(features, clusters, rfm, abc_xyz)
