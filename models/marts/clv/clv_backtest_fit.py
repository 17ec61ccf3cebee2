"""The buy-till-you-die models of clv_model_fit refit on the backtest's calibration period only (purchases
before calibration_end, int_clv__backtest_summary): the parameters clv_backtest_detail predicts the held-out
period with. Logic: customer_segmentation/ml (clv, clv_pipeline); parameters: the clv_* vars.
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ml.ClvSettings.from_config(dbt.config.get("clv_settings"))

    def table():
        summary = ml.clv_pipeline.read_summary(dbt.ref("int_clv__backtest_summary"), ml.clv_pipeline.BACKTEST_COLUMNS)
        return ml.clv_pipeline.fit_table(summary, settings.clv, summary["calibration_end"].max(), "clv_backtest_fit")

    return ml.pipeline.model_result(session, table)
