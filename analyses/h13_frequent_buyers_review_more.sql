-- H13 · share of purchases reviewed by decile of purchase count (empty without reviews).
-- Grain: one customer per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H13'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h13); this renders the per-group detail.

{{ hypothesis_h13(output='detail') }}
