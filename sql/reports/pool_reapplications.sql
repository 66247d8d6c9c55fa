-- kpi: reapplications_via_recontact = contacted
-- group: reapplication
-- dims:
-- apart: same_job, holdout
-- counts: applications recorded in pool_reapplication as following a re-contact (grp `contacted`: mailed
--   in an auto run or listed in a shortlist run), by pool_reapplication.applied_at in the period. Those for
--   a job the run matched them to (same_job) and the held-out group's re-applications are shown apart.
SELECT SUM(CASE WHEN r.grp = 'contacted' THEN 1 ELSE 0 END) AS contacted,
       SUM(CASE WHEN r.grp = 'contacted' AND r.same_job THEN 1 ELSE 0 END) AS same_job,
       SUM(CASE WHEN r.grp = 'holdout' THEN 1 ELSE 0 END) AS holdout
FROM pool_reapplication r
WHERE r.applied_at >= :start AND r.applied_at < :end
