-- H04 · mean amount paid per order by the type of its largest payment.
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H04'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h04); this renders the per-group detail.

{{ hypothesis_h04(output='detail') }}
