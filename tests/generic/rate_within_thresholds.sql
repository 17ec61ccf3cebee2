{#- Two-level threshold on a rate column, as ONE test: a row above warn_above makes the test warn, a row above
    error_above makes it fail. The rows returned are those above warn_above, each with its level (1 = warn,
    2 = error); fail_calc takes the highest level, so dbt reports "Got 1 result, configured to warn if >= 1"
    for a warning and "Got 2 results, configured to fail if >= 2" for an error (the number is the level, not a
    row count). Thresholds come from the caller (in this project, var data_quality_thresholds). -#}
{% test rate_within_thresholds(model, column_name, warn_above, error_above) %}
{{ config(fail_calc='coalesce(max(threshold_level), 0)', warn_if='>=1', error_if='>=2') }}

select
    *,
    case when {{ column_name }} > {{ error_above }} then 2 else 1 end as threshold_level,
    {{ warn_above }} as warn_above,
    {{ error_above }} as error_above
from {{ model }}
where {{ column_name }} > {{ warn_above }}

{% endtest %}
