"""Backtest of the lifetime-value models: actual vs predicted held-out repeat purchase days per period after
calibration_end (the tracking plot) and per calibration-frequency bucket, for every transaction model the
calibration fit (clv_backtest_fit) identified and for the naive baseline. Summarised per model in the SQL
mart clv_backtest. Logic: customer_segmentation/ml (clv, clv_pipeline.backtest_detail_table).
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ml.ClvSettings.from_config(dbt.config.get("clv_settings"))

    def table():
        summary = ml.clv_pipeline.read_summary(dbt.ref("int_clv__backtest_summary"), ml.clv_pipeline.BACKTEST_COLUMNS)
        tracking = ml.frames.to_pandas(dbt.ref("int_clv__backtest_tracking"))
        fits = ml.clv_pipeline.fits_from_table(ml.frames.to_pandas(dbt.ref("clv_backtest_fit")))
        return ml.clv_pipeline.backtest_detail_table(summary, tracking, fits, settings.clv)

    return ml.pipeline.model_result(session, table)
