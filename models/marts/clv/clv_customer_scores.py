"""Per customer: expected purchase days over each var clv_horizons_days, P(alive), expected order value and
CLV, from the models clv_model_selection names (an identified BTYD model, or the documented empirical
fallbacks). The BTYD formulas are evaluated vectorized in scripts/segmentation_ml/clv.py and tested against
pymc-marketing's own methods. The mart customer_lifetime_value adds the summary and the reasons.
"""
import segmentation_ml as ml


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ml.clv_pipeline.config_from(dbt.config.get("clv_settings"))
    summary = ml.clv_pipeline.to_summary(
        ml.pipeline.fetch(
            dbt.ref("int_clv__customer_summary"),
            ml.clv_pipeline.SCORE_COLUMNS,
            ml.clv_pipeline.SCORE_DOUBLE,
            row_key=False,
        )
    )
    backtest = ml.clv_pipeline.to_summary(
        ml.pipeline.fetch(
            dbt.ref("int_clv__backtest_summary"),
            ml.clv_pipeline.BACKTEST_COLUMNS,
            ml.clv_pipeline.SUMMARY_DOUBLE,
            row_key=False,
        )
    )
    fits = ml.clv_pipeline.fits_from_table(dbt.ref("clv_model_fit").df())
    selection = dbt.ref("clv_model_selection").df().iloc[0]
    return ml.clv_pipeline.customer_scores_table(
        summary,
        fits,
        selection,
        ml.clv_pipeline.empirical_rates(backtest, settings.empirical_min_customers),
        settings.clv,
    )
