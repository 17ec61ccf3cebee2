-- H11 · mean first-purchase delivery days of one-time vs repeat buyers.
-- Grain: one customer per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H11'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h11); this renders the per-group detail.

{{ hypothesis_h11(output='detail') }}
