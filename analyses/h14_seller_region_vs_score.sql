-- H14 · mean review score by seller macro-region, single-seller orders (empty without reviews).
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H14'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h14); this renders the per-group detail.

{{ hypothesis_h14(output='detail') }}
