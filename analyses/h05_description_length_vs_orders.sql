-- H05 · orders per product by decile of the description length.
-- Grain: one product per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H05'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h05); this renders the per-group detail.

{{ hypothesis_h05(output='detail') }}
