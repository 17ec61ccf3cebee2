-- H12 · repeat-buyer rate of cheap vs expensive first purchases.
-- Grain: one customer per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H12'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h12); this renders the per-group detail.

{{ hypothesis_h12(output='detail') }}
