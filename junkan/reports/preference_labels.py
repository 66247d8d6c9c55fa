"""The words of the preference page's figures (sql/reports/preference_*.sql), in Japanese and English:
section, figure names, inputs, definitions and the reasons a figure has none. `junkan.reports.labels`
adds them to its tables, so every renderer shows them like the other figures."""

from __future__ import annotations

GROUPS: dict[str, tuple[str, str]] = {
    "preference_page": ("今後のご案内の設定（ご本人のページ）", "The candidate's own page"),
}

KPIS: dict[str, tuple[str, str]] = {
    "preference_page_visitors": ("ページを開いた人", "People who opened the page"),
    "preference_page_savers": ("設定を保存した人", "People who saved their choices"),
    "preference_timing_3m_rate": ("希望時期「3か月後」の割合", "Chose to hear again in 3 months"),
    "preference_timing_6m_rate": ("希望時期「6か月後」の割合", "Chose to hear again in 6 months"),
    "preference_timing_12m_rate": ("希望時期「12か月後」の割合", "Chose to hear again in 12 months"),
    "preference_timing_never_rate": ("「今後の案内は不要」の割合", "Chose never to hear again"),
    "preference_timing_default_rate": ("希望時期の指定なしの割合", "Chose no timing (default cooldown)"),
    "stated_interest_reapplication_rate": ("希望職種を伝えた人の再応募率",
                                           "Re-application rate, interest stated"),
    "no_stated_interest_reapplication_rate": ("希望職種を伝えていない人の再応募率",
                                              "Re-application rate, no interest stated"),
}

INPUTS: dict[str, tuple[str, str]] = {
    "visitors": ("開いた人", "opened"),
    "savers": ("保存した人", "saved"),
    "timing_3m": ("3か月後", "3 months"),
    "timing_6m": ("6か月後", "6 months"),
    "timing_12m": ("12か月後", "12 months"),
    "timing_never": ("案内不要", "never"),
    "timing_default": ("指定なし", "no choice"),
    "stated_people": ("希望職種を伝えた人", "interest stated"),
    "reapplied_stated": ("うち再応募した人", "of whom re-applied"),
    "unstated_people": ("希望職種を伝えていない人", "no interest stated"),
    "reapplied_unstated": ("うち再応募した人", "of whom re-applied"),
}

_D = tuple[str, str | None, str]
_SAVERS = ("期間内に設定を保存した人（各人の期間末までの最新の保存）",
           "people who saved in the period (each by their newest save before its end)")
DEFINITIONS: dict[str, tuple[_D, _D]] = {
    "preference_page_visitors": (("有効なリンクで「今後のご案内の設定」を開いた人（1人1回）", None, "閲覧日"),
                                 ("people who opened their page with a valid link (once each)", None,
                                  "visit date")),
    "preference_page_savers": (("設定を保存した人（1人1回）", None, "保存日"),
                               ("people who saved their choices (once each)", None, "save date")),
    "preference_timing_3m_rate": (("そのうち「3か月後」を選んだ人", _SAVERS[0], "保存日"),
                                  ("of them, chose 3 months", _SAVERS[1], "save date")),
    "preference_timing_6m_rate": (("そのうち「6か月後」を選んだ人", _SAVERS[0], "保存日"),
                                  ("of them, chose 6 months", _SAVERS[1], "save date")),
    "preference_timing_12m_rate": (("そのうち「12か月後」を選んだ人", _SAVERS[0], "保存日"),
                                   ("of them, chose 12 months", _SAVERS[1], "save date")),
    "preference_timing_never_rate": (("そのうち「今後の案内は不要」を選んだ人", _SAVERS[0], "保存日"),
                                     ("of them, chose never", _SAVERS[1], "save date")),
    "preference_timing_default_rate": (("そのうち時期を選ばなかった人（通常の期間を適用）", _SAVERS[0],
                                        "保存日"),
                                       ("of them, chose no timing (the default cooldown applies)",
                                        _SAVERS[1], "save date")),
    "stated_interest_reapplication_rate": (
        ("期間内にもう一度応募した人",
         "期間開始前に不採用となり、期間末までの最新の保存で希望職種（または希望する仕事の自由記入）を伝えた人",
         "応募日"),
        ("people who applied again",
         "people rejected before the period whose newest save before its end names the work they want",
         "application date")),
    "no_stated_interest_reapplication_rate": (
        ("期間内にもう一度応募した人", "期間開始前に不採用となり、希望職種を伝えていない人（未保存を含む）",
         "応募日"),
        ("people who applied again",
         "people rejected before the period who have not stated an interest (never saved included)",
         "application date")),
}

#: The Japanese for the reasons the queries give (tried before the shared phrases of labels.py).
REASONS_JA: tuple[tuple[str, str], ...] = (
    (r"nobody saved the preference page in the period", "期間内に設定を保存した人がいません"),
    (r"nobody in this group among the people rejected before the period",
     "期間開始前に不採用となった人のうち、この群に当たる人がいません"),
)
