-- kpi: partner_registrations = registrations
-- kpi: partner_registration_rate = registrations / notices_with_link
-- group: partner
-- empty: no notices carrying a partner link in the period
-- dims: partner
-- apart: via_click, via_code, suspicious
-- counts: referrals the partner reported as registered, by partner_referral.occurred_at in the period,
--   suspicious ones excluded (shown apart); over notices carrying that partner's link accepted in the period.
--   Two paths: via_click, the person followed the notice's partner link before registering; via_code, no
--   click was recorded: the referral code was typed on the partner's site (or the click was not tracked).
WITH reg AS (
    SELECT r.partner,
           SUM(CASE WHEN r.suspicious THEN 0 ELSE 1 END) AS registrations,
           SUM(CASE WHEN r.suspicious THEN 1 ELSE 0 END) AS suspicious,
           SUM(CASE WHEN NOT r.suspicious AND EXISTS (
                   SELECT 1 FROM click c
                   WHERE c.message_id = r.message_id AND c.link = 'partner' AND c.kind = 'person'
                     AND c.clicked_at <= r.occurred_at)
               THEN 1 ELSE 0 END) AS via_click
    FROM partner_referral r
    WHERE r.status = 'registered' AND r.occurred_at >= :start AND r.occurred_at < :end
    GROUP BY r.partner
),
sent AS (
    SELECT m.partner_name AS partner, COUNT(*) AS notices_with_link
    FROM message m
    WHERE m.partner_name IS NOT NULL AND m.accepted_at >= :start AND m.accepted_at < :end
    GROUP BY m.partner_name
),
partners AS (
    SELECT partner FROM reg
    UNION
    SELECT partner FROM sent
)
SELECT p.partner AS partner,
       COALESCE(reg.registrations, 0) AS registrations,
       COALESCE(sent.notices_with_link, 0) AS notices_with_link,
       COALESCE(reg.via_click, 0) AS via_click,
       COALESCE(reg.registrations, 0) - COALESCE(reg.via_click, 0) AS via_code,
       COALESCE(reg.suspicious, 0) AS suspicious
FROM partners p
LEFT JOIN reg ON reg.partner = p.partner
LEFT JOIN sent ON sent.partner = p.partner
