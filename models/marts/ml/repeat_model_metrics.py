"""Time-split backtest of the first-purchase repeat model against two baselines (always-no and a
single-feature logistic regression): ROC AUC, PR AUC, precision/recall in the top decile, base rate,
sizes, and on the model row whether it beats the baselines.

Logic: customer_segmentation/ml (pipeline.repeat_model_metrics_table); parameters: model config in
_ml__models.yml, rendered from the repeat_* vars and random_seed.
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    # every key read by a literal dbt.config.get: dbt-duckdb hands a Python model only those
    config = ml.RepeatConfig.from_config(
        {
            "random_seed": dbt.config.get("random_seed"),
            "repeat_horizon_days": dbt.config.get("repeat_horizon_days"),
            "test_share": dbt.config.get("test_share"),
            "test_cutoff_date": dbt.config.get("test_cutoff_date"),
            "train_embargo": dbt.config.get("train_embargo"),
            "baseline_feature": dbt.config.get("baseline_feature"),
            "bootstrap_samples": dbt.config.get("bootstrap_samples"),
            "train_sample_size": dbt.config.get("train_sample_size"),
            "bootstrap_sample_size": dbt.config.get("bootstrap_sample_size"),
            "numeric_features": dbt.config.get("numeric_features"),
            "categorical_features": dbt.config.get("categorical_features"),
        }
    )
    columns, numeric = ml.pipeline.repeat_input_columns(config)

    def table():
        first_purchases = ml.pipeline.fetch(dbt.ref("ml_first_purchase_features"), columns, numeric)
        return ml.pipeline.repeat_model_metrics_table(first_purchases, config)

    return ml.pipeline.model_result(session, table)
