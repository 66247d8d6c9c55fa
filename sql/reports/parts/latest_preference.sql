-- The one definition of a person's preferences at the period's end, used by the preference page's counts
-- and its re-application rates: `latest_preference`, per candidate who saved the page before the period end
-- (candidate_preference.recorded_at), their newest such save; of two saves at one instant the later row
-- counts, as in junkan.consent.preferences.latest_preferences.
latest_preference AS (
    SELECT p.candidate_id, p.never, p.timing_months, p.families, p.other_interest
    FROM candidate_preference p
    WHERE p.recorded_at < :end
      AND NOT EXISTS (
          SELECT 1 FROM candidate_preference q
          WHERE q.candidate_id = p.candidate_id AND q.recorded_at < :end
            AND (q.recorded_at > p.recorded_at OR (q.recorded_at = p.recorded_at AND q.id > p.id)))
)
