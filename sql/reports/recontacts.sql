-- kpi: recontacts_sent = sent
-- kpi: recontact_click_rate = clicked / sent
-- group: pool
-- empty: no re-contact mail sent in the period
-- dims:
-- counts: `recontact` mails handed to the provider in the period (COALESCE(accepted_at, sending_at)), each
--   once; clicked = a provider click event or a person's click on one of our tracked links (the
--   unsubscribe link and mail scanners' fetches excluded), at any time.
WITH sent AS (
    SELECT m.id
    FROM message m
    WHERE m.kind = 'recontact'
      AND COALESCE(m.accepted_at, m.sending_at) >= :start AND COALESCE(m.accepted_at, m.sending_at) < :end
),
clicked AS (
    SELECT c.message_id AS mid FROM click c JOIN sent s ON s.id = c.message_id WHERE c.link <> 'unsubscribe' AND c.kind = 'person'
    UNION
    SELECT e.message_id AS mid FROM email_event e JOIN sent s ON s.id = e.message_id WHERE e.event = 'click'
)
SELECT (SELECT COUNT(*) FROM sent) AS sent, (SELECT COUNT(*) FROM clicked) AS clicked
