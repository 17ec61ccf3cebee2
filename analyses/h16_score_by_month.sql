-- H16 · mean review score by month of purchase (empty without reviews).
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H16'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h16); this renders the per-group detail.

{{ hypothesis_h16(output='detail') }}
