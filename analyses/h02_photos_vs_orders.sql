-- H02 · orders per product by decile of the photo count.
-- Grain: one product per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H02'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h02); this renders the per-group detail.

{{ hypothesis_h02(output='detail') }}
