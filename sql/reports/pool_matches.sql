-- kpi: pool_matched = people
-- group: pool
-- dims:
-- apart: matches, shortlisted, auto_matched
-- counts: the people the `recontact` runs of the period (match_run.run_at) matched to a newly opened
--   position, each person once per run, whichever the mode: listed for recruiters (`shortlist` runs,
--   shown apart as shortlisted) or mailed and held out (`auto` runs, auto_matched). `matches` counts every
--   (person, position) pair. The loop's 「マッチ」 step.
WITH people AS (
    SELECT pm.run_id, pm.candidate_id, mr.mode, COUNT(*) AS n
    FROM pool_match pm
    JOIN match_run mr ON mr.id = pm.run_id
    WHERE mr.run_at >= :start AND mr.run_at < :end
    GROUP BY pm.run_id, pm.candidate_id, mr.mode
)
SELECT COUNT(*) AS people,
       COALESCE(SUM(n), 0) AS matches,
       COALESCE(SUM(CASE WHEN mode = 'shortlist' THEN 1 ELSE 0 END), 0) AS shortlisted,
       COALESCE(SUM(CASE WHEN mode = 'auto' THEN 1 ELSE 0 END), 0) AS auto_matched
FROM people
