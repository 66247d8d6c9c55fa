-- kpi: credits_earned = earned
-- kpi: credits_redeemed = redeemed
-- kpi: credit_value = redeemed_value_yen
-- group: partner
-- dims: partner
-- apart: expired, earned_value_yen
-- counts: ledger movements by partner_ledger.effective_at in the period. credit_value is the yen value of
--   the credits redeemed (the saving partner credits brought), taken from the ledger, never recomputed.
SELECT l.partner AS partner,
       SUM(CASE WHEN l.kind = 'earned' THEN 1 ELSE 0 END) AS earned,
       SUM(CASE WHEN l.kind = 'redeemed' THEN 1 ELSE 0 END) AS redeemed,
       SUM(CASE WHEN l.kind = 'expired' THEN 1 ELSE 0 END) AS expired,
       SUM(CASE WHEN l.kind = 'earned' THEN l.value_yen ELSE 0 END) AS earned_value_yen,
       SUM(CASE WHEN l.kind = 'redeemed' THEN -l.value_yen ELSE 0 END) AS redeemed_value_yen
FROM partner_ledger l
WHERE l.effective_at >= :start AND l.effective_at < :end
GROUP BY l.partner
