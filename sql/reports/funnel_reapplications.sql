-- kpi: reapplications = n
-- group: funnel
-- dims: job_id, department
-- counts: application in the period flagged as a re-application at ingest; the period date is application.applied_at.
SELECT a.job_id AS job_id, j.department AS department, COUNT(*) AS n
FROM application a
LEFT JOIN job j ON j.id = a.job_id
WHERE a.applied_at >= :start AND a.applied_at < :end AND a.is_reapplication
GROUP BY a.job_id, j.department
