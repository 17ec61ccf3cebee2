-- H10 · purchases by weekday.
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H10'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h10); this renders the per-group detail.

{{ hypothesis_h10(output='detail') }}
