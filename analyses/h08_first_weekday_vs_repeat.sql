-- H08 · repeat-buyer rate by weekday of the first purchase.
-- Grain: one customer per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H08'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h08); this renders the per-group detail.

{{ hypothesis_h08(output='detail') }}
