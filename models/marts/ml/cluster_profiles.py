"""One row per cluster: size, share, feature means in original units, dominant region / churn_risk /
RFM segment / ABC-XYZ segment, and a generated readable name.

Logic: customer_segmentation/ml (pipeline.cluster_profiles_from_relations): DuckDB counts the labels per cluster
(one join on customer_unique_id at a time) and joins the features; only the numbers and the region reach pandas.
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")

    def table():
        return ml.pipeline.cluster_profiles_from_relations(
            dbt.ref("customer_clusters"),
            dbt.ref("ml_customer_features"),
            dbt.ref("customer_rfm"),
            dbt.ref("customer_abc_xyz"),
            churn=dbt.ref("customer_churn"),
        )

    return ml.pipeline.model_result(session, table)
