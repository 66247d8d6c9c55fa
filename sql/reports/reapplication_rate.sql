-- kpi: reapplications = reapplied
-- kpi: reapplication_rate = reapplied / rejected_candidates
-- group: reapplication
-- empty: no candidates rejected before the period
-- dims:
-- with: reapplied
-- counts: the one definition of a re-application (parts/reapplied.sql), used by the funnel, the rate and
--   the charts: distinct candidates with a rejection decided before the period start, of whom those who
--   applied again in the period.
SELECT (SELECT COUNT(*) FROM back) AS reapplied, (SELECT COUNT(*) FROM rejected) AS rejected_candidates
