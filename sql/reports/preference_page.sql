-- kpi: preference_page_visitors = visitors
-- kpi: preference_page_savers = savers
-- kpi: preference_timing_3m_rate = timing_3m / savers
-- kpi: preference_timing_6m_rate = timing_6m / savers
-- kpi: preference_timing_12m_rate = timing_12m / savers
-- kpi: preference_timing_never_rate = timing_never / savers
-- kpi: preference_timing_default_rate = timing_default / savers
-- group: preference_page
-- empty: nobody saved the preference page in the period
-- dims:
-- with: latest_preference
-- counts: the candidate's own page 「今後のご案内の設定」: distinct people who opened it with a valid link
--   (preference_visit.visited_at) and distinct people who saved it (candidate_preference.recorded_at) in
--   the period; the spread of the timings those savers chose, each person by their newest save before the
--   period's end (parts/latest_preference.sql: 3, 6 or 12 months, never, or no choice = the default
--   cooldown). The report is the one place these are counted.
WITH saved AS (
    SELECT DISTINCT p.candidate_id
    FROM candidate_preference p
    WHERE p.recorded_at >= :start AND p.recorded_at < :end
)
SELECT (SELECT COUNT(DISTINCT v.candidate_id) FROM preference_visit v
        WHERE v.visited_at >= :start AND v.visited_at < :end) AS visitors,
       COUNT(*) AS savers,
       COALESCE(SUM(CASE WHEN l.timing_months = 3 THEN 1 ELSE 0 END), 0) AS timing_3m,
       COALESCE(SUM(CASE WHEN l.timing_months = 6 THEN 1 ELSE 0 END), 0) AS timing_6m,
       COALESCE(SUM(CASE WHEN l.timing_months = 12 THEN 1 ELSE 0 END), 0) AS timing_12m,
       COALESCE(SUM(CASE WHEN l.never THEN 1 ELSE 0 END), 0) AS timing_never,
       COALESCE(SUM(CASE WHEN l.timing_months IS NULL AND NOT l.never THEN 1 ELSE 0 END), 0) AS timing_default
FROM latest_preference l
JOIN saved s ON s.candidate_id = l.candidate_id
