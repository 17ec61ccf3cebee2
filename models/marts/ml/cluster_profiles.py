"""One row per cluster: size, share, feature means in original units, dominant region / churn_risk /
RFM segment / ABC-XYZ segment, and a generated readable name.

Logic: scripts/segmentation_ml (pipeline.cluster_profiles_table).
"""
import segmentation_ml as ml


def model(dbt, session):
    dbt.config(materialized="table")
    features = dbt.ref("ml_customer_features").df()
    clusters = dbt.ref("customer_clusters").df()
    rfm = dbt.ref("customer_rfm").df()
    abc_xyz = dbt.ref("customer_abc_xyz").df()
    return ml.pipeline.cluster_profiles_table(features, clusters, rfm, abc_xyz)
