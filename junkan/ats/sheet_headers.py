"""How a spreadsheet header is compared with the known column names (the applications export and the
jobs sheet alike): NFKC, case-folded, without spaces, `_`, `-`, `・`, `*`, `※`, `:` and bracketed notes,
so 「メールアドレス（必須）」, "E-mail" and "email" are one name."""

from __future__ import annotations

import re
import unicodedata


def header_key(header: str) -> str:
    text = unicodedata.normalize("NFKC", header).casefold()
    text = re.sub(r"\(.*?\)|\[.*?\]|【.*?】|〔.*?〕", "", text)
    return re.sub(r"[\s_\-・*※:]", "", text)
