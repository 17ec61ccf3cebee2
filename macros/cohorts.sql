{#- Calendar helpers for the cohort marts and the hypotheses. All portable (dbt cross-database macros
    or ANSI SQL); the one expression whose syntax differs between engines goes through adapter.dispatch. -#}


{#- The first day of the month of a date or timestamp, as a date. -#}
{% macro month_start(date_expr) -%}
    cast({{ dbt.date_trunc('month', date_expr) }} as date)
{%- endmacro %}


{#- A date plus a whole number of months, as a date. -#}
{% macro add_months(date_expr, months_expr) -%}
    cast({{ dbt.dateadd('month', months_expr, date_expr) }} as date)
{%- endmacro %}


{#- Calendar-month difference: months between the months of two dates, whatever the day of month
    (31 Jan -> 1 Mar is 2, 28 Feb -> 1 Mar is 1; never days / 30). Both sides are truncated first,
    so engines whose datediff counts whole months elapsed give the same answer. -#}
{% macro calendar_month_diff(start_expr, end_expr) -%}
    {{ dbt.datediff(dbt.date_trunc('month', start_expr), dbt.date_trunc('month', end_expr), 'month') }}
{%- endmacro %}


{#- Integers 0 .. row_count - 1 in column offset_number, for spines with zero rows included
    (dbt's portable generate_series: powers of two cross-joined, no table needed). -#}
{% macro integer_offsets(row_count) -%}
    select generated_number - 1 as offset_number
    from ({{ dbt.generate_series(row_count) }}) as series
{%- endmacro %}


{#- Day of the week, ISO numbering: 1 = Monday .. 7 = Sunday. -#}
{% macro iso_day_of_week(ts_expr) -%}
    {{ return(adapter.dispatch('iso_day_of_week')(ts_expr)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(ts_expr) -%}
    cast(extract(isodow from {{ ts_expr }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro spark__iso_day_of_week(ts_expr) -%}
    ((dayofweek({{ ts_expr }}) + 5) % 7 + 1)
{%- endmacro %}


{#- English name of an ISO day-of-week number, prefixed by the number so that names sort in week order. -#}
{% macro iso_day_name(isodow_expr) -%}
    case {{ isodow_expr }}
        when 1 then '1 Monday'
        when 2 then '2 Tuesday'
        when 3 then '3 Wednesday'
        when 4 then '4 Thursday'
        when 5 then '5 Friday'
        when 6 then '6 Saturday'
        when 7 then '7 Sunday'
    end
{%- endmacro %}


{#- English name of a month number (1..12), prefixed by the zero-padded number so that names sort in order. -#}
{% macro month_name(month_expr) -%}
    case {{ month_expr }}
        when 1 then '01 January'
        when 2 then '02 February'
        when 3 then '03 March'
        when 4 then '04 April'
        when 5 then '05 May'
        when 6 then '06 June'
        when 7 then '07 July'
        when 8 then '08 August'
        when 9 then '09 September'
        when 10 then '10 October'
        when 11 then '11 November'
        when 12 then '12 December'
    end
{%- endmacro %}
