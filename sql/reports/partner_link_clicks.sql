-- kpi: partner_link_clicks = clicks
-- group: partner
-- dims: partner
-- counts: people who followed a partner link (click.link = 'partner'): one per message, however often it
--   was fetched, by its first fetch (click.clicked_at) in the period; mail scanners' fetches
--   (click.kind = 'scanner') are not counted. Attributed to the partner named on the message.
SELECT m.partner_name AS partner, COUNT(*) AS clicks
FROM click c
JOIN message m ON m.id = c.message_id
WHERE c.link = 'partner' AND c.kind = 'person' AND c.clicked_at >= :start AND c.clicked_at < :end
  AND m.partner_name IS NOT NULL
GROUP BY m.partner_name
