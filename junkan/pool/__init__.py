"""Talent pool, potential score and re-contact matching (docs/pool.md).

Modules, in the order a `recontact` run uses them:

- `signals`: one read of what the pool needs (applications, consents, suppressions, tags), as arrays;
  never a name, an address or a protected attribute;
- `eligibility`: who is in the pool and why; `tags`: automatic and operator tags;
- `scoring` (rules) and `model` (a calibrated scikit-learn model, once history allows): potential 0–100;
- `openings`: which openings are new since the last run; `exclusions`: who must never be matched;
- `vocabulary/` (data: occupations.yaml, skills.yaml) and `semantic`: canonical skills, occupation
  families and links learned from history, as more columns of the matcher's product;
- `matcher`: one sparse top-K product over every new opening and the eligible pool; `explain`: the why;
- `holdout`: the deterministic held-out share; `runs`: planning and storing a run;
- `export`: the matches as CSV / JSON; `attribution`: re-applications from re-contact;
- `vocabulary_report`: the words the vocabulary does not know; `evaluate`: the back-test on history.
"""
