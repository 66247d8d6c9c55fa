-- kpi: email_delivered_rate = delivered / reported
-- kpi: email_bounced_rate = bounced / reported
-- kpi: email_opened_rate = opened / reported
-- group: email
-- empty: the mail provider reported nothing about the period's mails (the file and SMTP backends report no deliveries, bounces or opens)
-- dims: kind, template_name, template_version
-- counts: mails to candidates handed to the provider in the period (COALESCE(accepted_at, sending_at)) that
--   the provider reported on: a webhook event of any kind, or a state only its events set (`delivered`,
--   `bounced`). Only a provider's events tell a delivery, a bounce or an open, so the rates are of those
--   mails: with the file or SMTP backend nothing is reported and the rates read "no data", never 0.0% nor
--   a lower bound proven by clicks. Of the reported mails, an open or a click (a provider event, or our
--   own tracked link, the unsubscribe link excluded; a mail scanner's fetch too) proves delivery.
SELECT m.kind AS kind, m.template_name AS template_name, m.template_version AS template_version,
       SUM(CASE WHEN m.state IN ('delivered', 'bounced')
                  OR m.id IN (SELECT e.message_id FROM email_event e)
                THEN 1 ELSE 0 END) AS reported,
       SUM(CASE WHEN m.state = 'delivered'
                  OR m.id IN (SELECT e.message_id FROM email_event e
                              WHERE e.event IN ('delivered', 'open', 'click'))
                  OR (m.id IN (SELECT c.message_id FROM click c WHERE c.link <> 'unsubscribe')
                      AND (m.state = 'bounced' OR m.id IN (SELECT e.message_id FROM email_event e)))
                THEN 1 ELSE 0 END) AS delivered,
       SUM(CASE WHEN m.state = 'bounced'
                  OR m.id IN (SELECT e.message_id FROM email_event e WHERE e.event = 'bounce')
                THEN 1 ELSE 0 END) AS bounced,
       SUM(CASE WHEN m.id IN (SELECT e.message_id FROM email_event e WHERE e.event = 'open')
                THEN 1 ELSE 0 END) AS opened
FROM message m
WHERE COALESCE(m.accepted_at, m.sending_at) >= :start AND COALESCE(m.accepted_at, m.sending_at) < :end
  AND m.candidate_id IS NOT NULL
GROUP BY m.kind, m.template_name, m.template_version
