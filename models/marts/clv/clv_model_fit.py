"""Buy-till-you-die models fit by maximum likelihood on every customer's history up to the analysis date:
BG/NBD, MBG/NBD and Pareto/NBD (purchases), Gamma-Gamma (spend), one row each with parameters and an
identification verdict. Logic: customer_segmentation/ml (clv for the fits, clv_pipeline for the table);
parameters: the clv_* vars, rendered into the config clv_settings (_clv__models.yml).
"""
from customer_segmentation import ml


def model(dbt, session):
    dbt.config(materialized="table")
    settings = ml.ClvSettings.from_config(dbt.config.get("clv_settings"))

    def table():
        summary = ml.clv_pipeline.read_summary(dbt.ref("int_clv__customer_summary"), ml.clv_pipeline.FIT_COLUMNS)
        return ml.clv_pipeline.fit_table(summary, settings.clv, summary["analysis_date"].max(), "clv_model_fit")

    return ml.pipeline.model_result(session, table)
