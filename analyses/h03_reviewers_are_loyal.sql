-- H03 · later purchases by whether the first purchase was reviewed (empty without reviews).
-- Grain: one customer per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H03'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h03); this renders the per-group detail.

{{ hypothesis_h03(output='detail') }}
