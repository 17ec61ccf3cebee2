"""Per distinct purchase history (btyd_frequency, btyd_recency, btyd_t, btyd_monetary_value): expected purchase
days over each var clv_horizons_days, P(alive), expected order value and CLV, from the models
clv_model_selection names (an identified BTYD model, or the documented empirical fallbacks). Every figure of a
customer is a function of their history, so each history is scored once (at 10 M Olist-like customers ~30 times
fewer rows than customers) and the mart customer_lifetime_value joins them to the customers. The BTYD formulas
are evaluated vectorized in customer_segmentation/ml/clv.py and tested against pymc-marketing's own methods.
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ml.ClvSettings.from_config(dbt.config.get("clv_settings"))

    def table():
        history = ml.clv_pipeline.read_histories(dbt.ref("int_clv__customer_summary"))
        backtest = ml.clv_pipeline.read_summary(dbt.ref("int_clv__backtest_summary"), ml.clv_pipeline.BACKTEST_COLUMNS)
        fits = ml.clv_pipeline.fits_from_table(ml.frames.to_pandas(dbt.ref("clv_model_fit")))
        selection = ml.frames.to_pandas(dbt.ref("clv_model_selection")).iloc[0]
        return ml.clv_pipeline.history_scores_table(
            history,
            fits,
            selection,
            ml.clv_pipeline.empirical_rates(backtest, settings.empirical_min_customers),
            settings.clv,
        )

    return ml.pipeline.model_result(session, table)
