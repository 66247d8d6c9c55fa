-- kpi: follow_up_rate = followed_up / eligible
-- group: follow_up
-- empty: no rejections to follow up in the period
-- dims: job_id, department
-- apart: excluded_policy, no_address, late, not_sent
-- needs: sla_calendar
-- counts: rejections decided in the period (application.decided_at); followed up when a rejection notice
--   was accepted by the provider before the SLA deadline of its decision day (report_sla_calendar).
--   Excluded by policy (out of the denominator): suppressed address, anonymised candidate, or a decision
--   already older than notice.max_age_days when first ingested. No address stays in (a miss), shown apart.
WITH rej AS (
    SELECT a.id, a.job_id, a.created_at, cal.deadline, cal.stale_after
    FROM report_sla_calendar cal
    JOIN application a
      ON a.status = 'rejected' AND a.decided_at >= cal.day_start AND a.decided_at < cal.day_end
    WHERE a.decided_at >= :start AND a.decided_at < :end
),
notice AS (
    SELECT m.application_id,
           MIN(m.accepted_at) AS accepted_at,
           MAX(CASE WHEN m.state = 'suppressed'
                      OR (m.state = 'cancelled' AND m.cancelled_reason = 'candidate_anonymised')
                    THEN 1 ELSE 0 END) AS by_policy,
           MAX(CASE WHEN m.state = 'cancelled' AND m.cancelled_reason = 'no_address'
                    THEN 1 ELSE 0 END) AS no_address
    FROM message m
    -- The period's rejections again, not `rej`: the planner estimates this range well, while the calendar
    -- range join is over-estimated ×36, which turned this into a sort + merge join of the whole CTE.
    JOIN application a ON a.id = m.application_id
    WHERE m.kind = 'rejection' AND a.status = 'rejected' AND a.decided_at >= :start AND a.decided_at < :end
    GROUP BY m.application_id
),
judged AS (
    SELECT rej.job_id,
           CASE
               WHEN n.accepted_at IS NOT NULL AND n.accepted_at < rej.deadline THEN 'followed_up'
               WHEN n.accepted_at IS NOT NULL THEN 'late'
               WHEN n.by_policy = 1 THEN 'excluded_policy'
               WHEN n.application_id IS NULL AND rej.created_at >= rej.stale_after THEN 'excluded_policy'
               WHEN n.no_address = 1 THEN 'no_address'
               ELSE 'not_sent'
           END AS outcome
    FROM rej
    LEFT JOIN notice n ON n.application_id = rej.id
)
SELECT judged.job_id AS job_id, j.department AS department,
       SUM(CASE WHEN outcome = 'followed_up' THEN 1 ELSE 0 END) AS followed_up,
       SUM(CASE WHEN outcome <> 'excluded_policy' THEN 1 ELSE 0 END) AS eligible,
       COUNT(*) AS rejections,
       SUM(CASE WHEN outcome = 'excluded_policy' THEN 1 ELSE 0 END) AS excluded_policy,
       SUM(CASE WHEN outcome = 'no_address' THEN 1 ELSE 0 END) AS no_address,
       SUM(CASE WHEN outcome = 'late' THEN 1 ELSE 0 END) AS late,
       SUM(CASE WHEN outcome = 'not_sent' THEN 1 ELSE 0 END) AS not_sent
FROM judged
LEFT JOIN job j ON j.id = judged.job_id
GROUP BY judged.job_id, j.department
