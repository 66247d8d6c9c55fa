-- kpi: reapplications = reapplied
-- kpi: reapplication_rate = reapplied / rejected_candidates
-- group: reapplication
-- empty: no candidates rejected before the period
-- dims:
-- counts: the one definition of a re-application, used by the funnel, the rate and the charts:
--   distinct candidates with a rejection decided before the period start (application.decided_at),
--   of whom those who applied again in the period (application.applied_at, flagged is_reapplication).
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
)
SELECT (SELECT COUNT(*) FROM back) AS reapplied, (SELECT COUNT(*) FROM rejected) AS rejected_candidates
