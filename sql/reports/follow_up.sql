-- kpi: follow_up_rate = followed_up / eligible
-- group: follow_up
-- empty: no rejections to follow up in the period
-- dims: job_id, department
-- apart: before_go_live, excluded_policy, no_address, late, not_sent
-- needs: sla_calendar
-- counts: rejections decided in the period (application.decided_at); followed up when a rejection notice
--   was accepted by the provider before the SLA deadline of its decision day (report_sla_calendar).
--   Excluded by policy (out of the denominator): suppressed address, anonymised candidate, or a decision
--   already older than notice.max_age_days when first ingested. No address stays in (a miss), shown apart.
--   History (out of the denominator, shown apart): a rejection whose SLA deadline had passed when Junkan
--   went live (the go_live bind, see build.go_live), so no notice from Junkan could have been on time.
-- plan: an application has at most one rejection notice (unique index ix_message_rejection_notice), so
--   each rejection joins its notice directly, read from that index; rows are counted per job first and the
--   job's department joined to the 200-odd totals, not to every rejection.
WITH rej AS (
    SELECT a.id, a.job_id, a.created_at, cal.deadline, cal.stale_after
    FROM report_sla_calendar cal
    JOIN application a
      ON a.status = 'rejected' AND a.decided_at >= cal.day_start AND a.decided_at < cal.day_end
    WHERE a.decided_at >= :start AND a.decided_at < :end
),
judged AS (
    SELECT rej.job_id,
           CASE
               WHEN rej.deadline <= :go_live THEN 'before_go_live'
               WHEN n.accepted_at IS NOT NULL AND n.accepted_at < rej.deadline THEN 'followed_up'
               WHEN n.accepted_at IS NOT NULL THEN 'late'
               WHEN n.state = 'suppressed'
                 OR (n.state = 'cancelled' AND n.cancelled_reason = 'candidate_anonymised')
                 THEN 'excluded_policy'
               WHEN n.application_id IS NULL AND rej.created_at >= rej.stale_after THEN 'excluded_policy'
               WHEN n.state = 'cancelled' AND n.cancelled_reason = 'no_address' THEN 'no_address'
               ELSE 'not_sent'
           END AS outcome
    FROM rej
    LEFT JOIN message n ON n.application_id = rej.id AND n.kind = 'rejection'
),
per_job AS (
    SELECT job_id,
           SUM(CASE WHEN outcome = 'followed_up' THEN 1 ELSE 0 END) AS followed_up,
           SUM(CASE WHEN outcome NOT IN ('excluded_policy', 'before_go_live') THEN 1 ELSE 0 END) AS eligible,
           COUNT(*) AS rejections,
           SUM(CASE WHEN outcome = 'before_go_live' THEN 1 ELSE 0 END) AS before_go_live,
           SUM(CASE WHEN outcome = 'excluded_policy' THEN 1 ELSE 0 END) AS excluded_policy,
           SUM(CASE WHEN outcome = 'no_address' THEN 1 ELSE 0 END) AS no_address,
           SUM(CASE WHEN outcome = 'late' THEN 1 ELSE 0 END) AS late,
           SUM(CASE WHEN outcome = 'not_sent' THEN 1 ELSE 0 END) AS not_sent
    FROM judged
    GROUP BY job_id
)
SELECT p.job_id AS job_id, j.department AS department, p.followed_up AS followed_up, p.eligible AS eligible,
       p.rejections AS rejections, p.before_go_live AS before_go_live, p.excluded_policy AS excluded_policy, p.no_address AS no_address,
       p.late AS late, p.not_sent AS not_sent
FROM per_job p
LEFT JOIN job j ON j.id = p.job_id
