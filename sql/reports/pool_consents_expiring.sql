-- kpi: pool_consents_expiring_30d = expiring
-- group: pool
-- dims:
-- counts: pool members whose `talent_pool` consent ends (pool_member.consent_until) in the 30 days after
--   the period: [end, end + 30 days). Members without an end date are not counted.
SELECT COUNT(*) AS expiring
FROM pool_member p
WHERE p.consent_until >= :end AND p.consent_until < :horizon
