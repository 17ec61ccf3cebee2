{#- The project's one definition of a repeat purchase: a purchase on a calendar day at least var
    repeat_min_gap_days (default 1: any later day) after the customer's first purchase day. Orders placed on the
    first purchase day belong to the first visit. Used by the repeat-buyer model, the hypotheses and cohorts;
    a "repeat buyer" is a customer with at least one such purchase (in the window a model or hypothesis states).
    purchase_date and first_purchase_date are SQL date expressions. -#}
{% macro is_repeat_purchase(purchase_date, first_purchase_date) -%}
    ({{ purchase_date }} >= {{ dbt.dateadd('day', var('repeat_min_gap_days'), first_purchase_date) }})
{%- endmacro %}
