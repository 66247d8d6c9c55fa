-- kpi: pool_size = members
-- kpi: pool_eligibility = silver / members
-- group: pool
-- empty: the talent pool is empty
-- dims:
-- apart: standard
-- counts: the talent pool as of its last refresh (pool_member is a snapshot rewritten by every
--   `recontact` run, so this is a stock with no period date). pool_eligibility is the share of `silver`
--   members; the `standard` members are shown apart.
SELECT COUNT(*) AS members,
       SUM(CASE WHEN p.eligibility = 'silver' THEN 1 ELSE 0 END) AS silver,
       SUM(CASE WHEN p.eligibility = 'standard' THEN 1 ELSE 0 END) AS standard
FROM pool_member p
