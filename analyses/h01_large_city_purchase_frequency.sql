-- H01 · mean purchases per customer by city group (large cities = var hypothesis_large_cities).
-- Grain: one customer per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H01'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h01); this renders the per-group detail.

{{ hypothesis_h01(output='detail') }}
