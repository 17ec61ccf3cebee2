-- H09 · purchases by hour of day, flagged inside the claimed peak window.
-- Grain: one order per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H09'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h09); this renders the per-group detail.

{{ hypothesis_h09(output='detail') }}
