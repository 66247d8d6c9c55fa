-- kpi: stated_interest_reapplication_rate = reapplied_stated / stated_people
-- kpi: no_stated_interest_reapplication_rate = reapplied_unstated / unstated_people
-- group: preference_page
-- empty: nobody in this group among the people rejected before the period
-- dims:
-- counts: the re-application rate (reapplication_rate.sql: people rejected before the period start, of
--   whom those who applied again in the period) in two groups: the people whose newest save of the
--   preference page before the period's end names the work they want (an occupation family or a free-text
--   interest), and everyone else (no save, or a save naming no work). Together they are the re-application
--   rate's people.
WITH rejected AS (
    SELECT DISTINCT a.candidate_id
    FROM application a
    WHERE a.status = 'rejected' AND a.decided_at < :start
),
back AS (
    SELECT DISTINCT a.candidate_id
    FROM application a
    JOIN rejected r ON r.candidate_id = a.candidate_id
    WHERE a.is_reapplication AND a.applied_at >= :start AND a.applied_at < :end
),
stated AS (
    SELECT p.candidate_id
    FROM candidate_preference p
    WHERE p.recorded_at < :end
      AND (CAST(p.families AS TEXT) <> '[]' OR p.other_interest <> '')
      AND NOT EXISTS (
          SELECT 1 FROM candidate_preference q
          WHERE q.candidate_id = p.candidate_id AND q.recorded_at < :end
            AND (q.recorded_at > p.recorded_at OR (q.recorded_at = p.recorded_at AND q.id > p.id)))
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
