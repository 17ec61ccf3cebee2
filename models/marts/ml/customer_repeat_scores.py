"""Repeat probability for every customer with exactly one purchase so far, from the gradient-boosting
model refit on every customer whose horizon is complete.

Logic: customer_segmentation/ml (pipeline.customer_repeat_scores_table).
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    config = {
        "random_seed": dbt.config.get("random_seed"),
        "repeat_horizon_days": dbt.config.get("repeat_horizon_days"),
        "numeric_features": dbt.config.get("numeric_features"),
        "categorical_features": dbt.config.get("categorical_features"),
        "train_sample_size": dbt.config.get("train_sample_size"),
    }
    columns, numeric = ml.pipeline.repeat_input_columns(config)
    first_purchases = ml.pipeline.fetch(dbt.ref("ml_first_purchase_features"), columns, numeric)
    return ml.pipeline.customer_repeat_scores_table(first_purchases, config)
