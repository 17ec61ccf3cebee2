"""KMeans model selection: inertia and silhouette for every candidate k, the chosen k flagged.

Logic: scripts/segmentation_ml (pipeline.cluster_selection_table); parameters: model config in
_ml__models.yml, rendered from the kmeans_* vars and random_seed.
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
        "k_range": dbt.config.get("k_range"),
        "fixed_k": dbt.config.get("fixed_k"),
        "silhouette_sample_size": dbt.config.get("silhouette_sample_size"),
        "minibatch_threshold": dbt.config.get("minibatch_threshold"),
        "n_init": dbt.config.get("n_init"),
        "cluster_features": dbt.config.get("cluster_features"),
    }
    features = dbt.ref("ml_customer_features").df()
    states = dbt.ref("brazil_states").df()
    regions = sorted(states["region"].dropna().astype(str).unique())
    return ml.pipeline.cluster_selection_table(features, config, regions)
