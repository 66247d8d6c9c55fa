-- kpi: hires_from_pool = hired
-- group: reapplication
-- dims:
-- apart: holdout_hired
-- counts: hires (application.status `hired`, application.decided_at in the period) of applications that
--   came through a re-contact (pool_reapplication grp `contacted`); hires of held-out people shown apart.
SELECT SUM(CASE WHEN r.grp = 'contacted' THEN 1 ELSE 0 END) AS hired,
       SUM(CASE WHEN r.grp = 'holdout' THEN 1 ELSE 0 END) AS holdout_hired
FROM pool_reapplication r
JOIN application a ON a.id = r.application_id
WHERE a.status = 'hired' AND a.decided_at >= :start AND a.decided_at < :end
