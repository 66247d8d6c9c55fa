-- kpi: rejections = n
-- group: funnel
-- dims: job_id, department
-- counts: application whose current status is rejected, decided in the period; the period date is application.decided_at.
SELECT a.job_id AS job_id, j.department AS department, COUNT(*) AS n
FROM application a
LEFT JOIN job j ON j.id = a.job_id
WHERE a.decided_at >= :start AND a.decided_at < :end AND a.status = 'rejected'
GROUP BY a.job_id, j.department
