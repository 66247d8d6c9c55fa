-- kpi: email_clicked_rate = clicked / sent
-- group: email
-- empty: no messages sent in the period
-- dims: kind, template_name, template_version
-- counts: mails to candidates handed to the provider in the period (COALESCE(accepted_at, sending_at);
--   the monthly report to internal recipients is not one); each message counts once per metric. Same evidence as junkan.engagement.metrics.message_engagement: provider
--   events and our own tracked-link clicks (unsubscribe link excluded; a mail scanner's fetch is not a
--   click). Deliveries, bounces and opens, which only the provider can tell, are email_provider_events.sql.
-- plan: one pass over the period's messages; each piece of evidence is a set of message ids (`IN`), which
--   PostgreSQL builds once as a hash (while it fits the report transaction's work_mem, see compute.py) and
--   only when a message's state leaves the question open; SQLite builds each as a temporary index.
SELECT m.kind AS kind, m.template_name AS template_name, m.template_version AS template_version,
       COUNT(*) AS sent,
       SUM(CASE WHEN m.id IN (SELECT e.message_id FROM email_event e WHERE e.event = 'click')
                  OR m.id IN (SELECT c.message_id FROM click c WHERE c.link <> 'unsubscribe' AND c.kind = 'person')
                THEN 1 ELSE 0 END) AS clicked
FROM message m
WHERE COALESCE(m.accepted_at, m.sending_at) >= :start AND COALESCE(m.accepted_at, m.sending_at) < :end
  AND m.candidate_id IS NOT NULL
GROUP BY m.kind, m.template_name, m.template_version
