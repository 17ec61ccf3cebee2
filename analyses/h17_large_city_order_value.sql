-- H17 · mean amount paid per purchase by city group.
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H17'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h17); this renders the per-group detail.

{{ hypothesis_h17(output='detail') }}
