"""Per customer (int_clv__customer_summary: history before the analysis date) and BTYD transaction model
identified in clv_model_fit: the probability of a purchase within var churn_horizon_days after the analysis date,
1 - P(no purchase in (T, T + H]) (clv.probability_no_purchase, tested against pymc-marketing). customer_churn
uses the rows of the model churn_model_selection names. No rows when no model is identified.
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ml.ChurnBtydConfig.from_config(dbt.config.get("churn_btyd_settings"))

    def table():
        out = ml.clv_pipeline.churn_probability_table(
            dbt.ref("clv_model_fit"),
            dbt.ref("int_clv__customer_summary"),
            ["customer_unique_id", "btyd_frequency", "btyd_recency", "btyd_t"],
            ["btyd_frequency", "btyd_recency", "btyd_t"],
            settings.horizon_days,
            settings.time_unit_days,
        )
        return out[["customer_unique_id", "model", "return_probability"]]

    return ml.pipeline.model_result(session, table)
