-- H07 · mean review score by decile of delivery days (empty without reviews).
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H07'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h07); this renders the per-group detail.

{{ hypothesis_h07(output='detail') }}
