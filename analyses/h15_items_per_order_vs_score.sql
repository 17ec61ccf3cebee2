-- H15 · mean review score by decile of items per order (empty without reviews).
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H15'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h15); this renders the per-group detail.

{{ hypothesis_h15(output='detail') }}
