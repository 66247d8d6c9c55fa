-- kpi: partner_link_clicks = clicks
-- group: partner
-- dims: partner
-- counts: followed partner links (click.link = 'partner'), by click.clicked_at in the period, attributed to
--   the partner named on the message that carried the link. Every click counts (not distinct messages).
SELECT m.partner_name AS partner, COUNT(*) AS clicks
FROM click c
JOIN message m ON m.id = c.message_id
WHERE c.link = 'partner' AND c.clicked_at >= :start AND c.clicked_at < :end AND m.partner_name IS NOT NULL
GROUP BY m.partner_name
