"""KMeans model selection: inertia and silhouette for every candidate k, the chosen k flagged.

Logic: customer_segmentation/ml (pipeline.cluster_selection_table); parameters: model config in
_ml__models.yml, rendered from the kmeans_* vars and random_seed. Above var kmeans_fit_sample_size
customers every candidate is fit on a fixed-seed sample of that size and evaluated on all customers.
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    # every key read by a literal dbt.config.get: dbt-duckdb hands a Python model only those
    config = ml.ClusterConfig.from_config(
        {
            "random_seed": dbt.config.get("random_seed"),
            "k_range": dbt.config.get("k_range"),
            "fixed_k": dbt.config.get("fixed_k"),
            "silhouette_sample_size": dbt.config.get("silhouette_sample_size"),
            "minibatch_threshold": dbt.config.get("minibatch_threshold"),
            "n_init": dbt.config.get("n_init"),
            "fit_sample_size": dbt.config.get("fit_sample_size"),
            "cluster_features": dbt.config.get("cluster_features"),
        }
    )

    def table():
        features = ml.pipeline.fetch(
            dbt.ref("ml_customer_features"), ml.pipeline.CLUSTER_INPUT_COLUMNS, ml.pipeline.CLUSTER_INPUT_NUMERIC
        )
        states = ml.frames.to_pandas(dbt.ref("brazil_states"))
        regions = sorted(states["region"].dropna().astype(str).unique())
        return ml.pipeline.cluster_selection_table(features, config, regions)

    return ml.pipeline.model_result(session, table)
