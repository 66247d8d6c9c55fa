-- kpi: stated_interest_reapplication_rate = reapplied_stated / stated_people
-- kpi: no_stated_interest_reapplication_rate = reapplied_unstated / unstated_people
-- group: preference_page
-- empty: nobody in this group among the people rejected before the period
-- dims:
-- with: reapplied, latest_preference
-- counts: the re-application rate (parts/reapplied.sql, as in reapplication_rate.sql: people rejected
--   before the period start, of whom those who applied again in the period) in two groups: the people whose
--   newest save of the preference page before the period's end (parts/latest_preference.sql) names the work
--   they want (an occupation family or a free-text interest), and everyone else (no save, or a save naming
--   no work). Together they are the re-application rate's people.
WITH stated AS (
    SELECT l.candidate_id
    FROM latest_preference l
    WHERE CAST(l.families AS TEXT) <> '[]' OR l.other_interest <> ''
)
SELECT COALESCE(SUM(CASE WHEN s.candidate_id IS NOT NULL THEN 1 ELSE 0 END), 0) AS stated_people,
       COALESCE(SUM(CASE WHEN s.candidate_id IS NOT NULL AND b.candidate_id IS NOT NULL THEN 1 ELSE 0 END), 0)
           AS reapplied_stated,
       COALESCE(SUM(CASE WHEN s.candidate_id IS NULL THEN 1 ELSE 0 END), 0) AS unstated_people,
       COALESCE(SUM(CASE WHEN s.candidate_id IS NULL AND b.candidate_id IS NOT NULL THEN 1 ELSE 0 END), 0)
           AS reapplied_unstated
FROM rejected r
LEFT JOIN stated s ON s.candidate_id = r.candidate_id
LEFT JOIN back b ON b.candidate_id = r.candidate_id
