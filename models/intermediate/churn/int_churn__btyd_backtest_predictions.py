"""Per backtest month end on or after the BTYD calibration_end (int_churn__btyd_backtest_states), customer and BTYD
transaction model identified in clv_backtest_fit (fit on purchases before calibration_end only): the probability
of a purchase within var churn_horizon_days, 1 - P(no purchase in (T, T + H]) (clv.probability_no_purchase,
tested against pymc-marketing), next to whether the customer did. No rows when no model is identified.
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ml.ChurnBtydConfig.from_config(dbt.config.get("churn_btyd_settings"))

    def table():
        out = ml.clv_pipeline.churn_probability_table(
            dbt.ref("clv_backtest_fit"),
            dbt.ref("int_churn__btyd_backtest_states"),
            ml.clv_pipeline.CHURN_STATE_COLUMNS,
            ml.clv_pipeline.CHURN_STATE_DOUBLE,
            settings.horizon_days,
            settings.time_unit_days,
        )
        return out[["snapshot_month", "as_of_date", "customer_unique_id", "model", "return_probability", "returned"]]

    return ml.pipeline.model_result(session, table)
