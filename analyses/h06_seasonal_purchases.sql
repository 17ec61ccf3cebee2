-- H06 · mean purchases per day, season months vs the rest of the complete years.
-- Grain: one day per unit. The statement, the seed's figure and the verdict are in the mart:
--     select * from {{ ref('hypothesis_results') }} where hypothesis_id = 'H06'
-- Same SQL as the mart (macros/hypotheses.sql, hypothesis_h06); this renders the per-group detail.

{{ hypothesis_h06(output='detail') }}
