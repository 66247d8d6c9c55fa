-- kpi: email_delivered_rate = delivered / sent
-- kpi: email_bounced_rate = bounced / sent
-- kpi: email_opened_rate = opened / sent
-- kpi: email_clicked_rate = clicked / sent
-- group: email
-- empty: no messages sent in the period
-- dims: kind, template_name, template_version
-- counts: messages handed to the provider in the period (COALESCE(accepted_at, sending_at)); each message
--   counts once per metric. Same evidence as junkan.engagement.metrics.message_engagement: provider
--   events, our own tracked-link clicks (unsubscribe link excluded), and the message state for backends
--   without events; an open or a click proves delivery.
WITH sent AS (
    SELECT m.id, m.kind, m.template_name, m.template_version, m.state
    FROM message m
    WHERE COALESCE(m.accepted_at, m.sending_at) >= :start AND COALESCE(m.accepted_at, m.sending_at) < :end
),
ev AS (
    SELECT e.message_id AS mid,
           MAX(CASE WHEN e.event = 'delivered' THEN 1 ELSE 0 END) AS delivered,
           MAX(CASE WHEN e.event = 'bounce' THEN 1 ELSE 0 END) AS bounced,
           MAX(CASE WHEN e.event = 'open' THEN 1 ELSE 0 END) AS opened,
           MAX(CASE WHEN e.event = 'click' THEN 1 ELSE 0 END) AS clicked
    FROM email_event e
    JOIN sent s ON s.id = e.message_id
    GROUP BY e.message_id
),
own AS (
    SELECT c.message_id AS mid
    FROM click c
    JOIN sent s ON s.id = c.message_id
    WHERE c.link <> 'unsubscribe'
    GROUP BY c.message_id
),
flags AS (
    SELECT s.kind, s.template_name, s.template_version,
           CASE WHEN COALESCE(ev.opened, 0) = 1 OR COALESCE(ev.clicked, 0) = 1 OR own.mid IS NOT NULL
                THEN 1 ELSE 0 END AS engaged,
           CASE WHEN COALESCE(ev.clicked, 0) = 1 OR own.mid IS NOT NULL THEN 1 ELSE 0 END AS clicked,
           COALESCE(ev.opened, 0) AS opened,
           CASE WHEN COALESCE(ev.bounced, 0) = 1 OR s.state = 'bounced' THEN 1 ELSE 0 END AS bounced,
           CASE WHEN COALESCE(ev.delivered, 0) = 1 OR s.state = 'delivered' THEN 1 ELSE 0 END AS delivered
    FROM sent s
    LEFT JOIN ev ON ev.mid = s.id
    LEFT JOIN own ON own.mid = s.id
)
SELECT kind, template_name, template_version,
       COUNT(*) AS sent,
       SUM(CASE WHEN delivered = 1 OR engaged = 1 THEN 1 ELSE 0 END) AS delivered,
       SUM(bounced) AS bounced,
       SUM(opened) AS opened,
       SUM(clicked) AS clicked
FROM flags
GROUP BY kind, template_name, template_version
