"""One row per customer of ml_customer_features: KMeans cluster (k chosen in cluster_selection) and the
distance to its centroid in the standardized feature space.

Logic: customer_segmentation/ml (pipeline.customer_clusters_table); the refit for the chosen k must
reproduce cluster_selection's inertia or the model fails. Above var kmeans_fit_sample_size customers the
centroids come from the same fixed-seed sample as in cluster_selection and every customer is assigned.
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
        selection = ml.frames.to_pandas(dbt.ref("cluster_selection"))
        states = ml.frames.to_pandas(dbt.ref("brazil_states"))
        regions = sorted(states["region"].dropna().astype(str).unique())
        return ml.pipeline.customer_clusters_table(features, selection, config, regions)

    return ml.pipeline.model_result(session, table)
