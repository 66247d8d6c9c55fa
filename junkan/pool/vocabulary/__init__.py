"""Job vocabulary of the re-contact matcher: occupations, a skill thesaurus, spelling normalisation and
links learned from the company's own history (docs/pool.md "Vocabulary").

The data is shipped as YAML beside this package (occupations.yaml, skills.yaml), not as code.
"""

from junkan.pool.vocabulary.thesaurus import (
    Family,
    ThesaurusError,
    Vocabulary,
    load_vocabulary,
    shipped,
)

__all__ = ["Family", "ThesaurusError", "Vocabulary", "load_vocabulary", "shipped"]
