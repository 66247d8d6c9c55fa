-- kpi: recontact_reapplication_rate = contacted_reapplied / contacted_people
-- kpi: holdout_reapplication_rate = holdout_reapplied / holdout_people
-- group: reapplication
-- empty: no auto re-contact run in the period
-- dims:
-- counts: the two groups of the `auto` re-contact runs of the period (match_run.run_at): people mailed
--   (a pool_match with a message) and people held out (pool_match.holdout), each person once per run;
--   re-applied = those with a pool_reapplication of their group for that run (recorded at any time, up to
--   the attribution window after the run). Feeds recontact_lift (computed in Python, with its interval).
WITH people AS (
    SELECT pm.candidate_id, pm.run_id,
           MAX(CASE WHEN pm.message_id IS NOT NULL AND NOT pm.holdout THEN 1 ELSE 0 END) AS mailed,
           MAX(CASE WHEN pm.holdout THEN 1 ELSE 0 END) AS held
    FROM pool_match pm
    JOIN match_run mr ON mr.id = pm.run_id
    WHERE mr.mode = 'auto' AND mr.run_at >= :start AND mr.run_at < :end
    GROUP BY pm.candidate_id, pm.run_id
),
back AS (
    SELECT r.candidate_id, r.run_id,
           MAX(CASE WHEN r.grp = 'contacted' THEN 1 ELSE 0 END) AS contacted,
           MAX(CASE WHEN r.grp = 'holdout' THEN 1 ELSE 0 END) AS held
    FROM pool_reapplication r
    GROUP BY r.candidate_id, r.run_id
)
SELECT COALESCE(SUM(p.mailed), 0) AS contacted_people,
       COALESCE(SUM(CASE WHEN p.mailed = 1 AND b.contacted = 1 THEN 1 ELSE 0 END), 0) AS contacted_reapplied,
       COALESCE(SUM(p.held), 0) AS holdout_people,
       COALESCE(SUM(CASE WHEN p.held = 1 AND b.held = 1 THEN 1 ELSE 0 END), 0) AS holdout_reapplied
FROM people p
LEFT JOIN back b ON b.candidate_id = p.candidate_id AND b.run_id = p.run_id
