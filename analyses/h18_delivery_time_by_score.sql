-- H18 · mean delivery days by review score (empty without reviews).
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H18'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h18); this renders the per-group detail.

{{ hypothesis_h18(output='detail') }}
