-- The one definition of a re-application, used by the funnel, the rate, the charts and the preference
-- page's rates: `rejected`, the distinct candidates with a rejection decided before the period start
-- (application.decided_at); `back`, those of them who applied again in the period (application.applied_at,
-- flagged is_reapplication).
rejected AS (
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
