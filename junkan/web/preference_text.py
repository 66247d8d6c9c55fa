"""The words of the preference page 「今後のご案内の設定」 (junkan/web/preference_page.py), in Japanese and
English, in the courteous register of the notices.

PREFERENCE_WORDING_VERSION (junkan/consent/wording.py) names this text: change the version with the text.
"""

from __future__ import annotations

#: Occupation families in groups a person recognises, by the MHLW middle group (`code` in
#: occupations.yaml); a family of another code (or an operator's own) is under "other".
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("IT・エンジニア", "IT and engineering", ("10",)),
    ("デザイン", "Design", ("22",)),
    ("営業・販売・接客", "Sales and customer service", ("34", "32")),
    ("企画・管理部門・事務", "Business, corporate and office", ("24", "25", "26", "28", "17", "18")),
    ("ものづくり・物流", "Manufacturing and logistics", ("07", "08", "53", "57", "70", "61")),
    ("医療・介護・調理", "Health, care and food", ("13", "14", "36", "39")),
    ("建設・設備", "Construction and facilities", ("09", "66", "67", "41")),
    ("そのほか", "Other", ()),
)

TEXT: dict[str, dict[str, str]] = {
    "ja": {
        "title": "今後のご案内の設定",
        "intro": "このたびは{company}にご関心をお寄せいただき、ありがとうございました。今後のご案内について、"
                 "ご希望をお聞かせください。いずれの項目も任意です。保存した内容は、このページから"
                 "いつでも変更していただけます。",
        "last_saved": "{date}に保存された内容を表示しています。",
        "families": "ご案内を希望される職種",
        "families_hint": "複数お選びいただけます。",
        "other_interest": "そのほかのご希望（自由にご記入ください）",
        "places": "勤務地",
        "places_hint": "当社の求人がある地域です。複数お選びいただけます。",
        "other_places": "そのほかの希望勤務地（例：札幌市、福岡県）",
        "remote": "リモートワーク",
        "remote_yes": "希望する",
        "remote_no": "希望しない",
        "remote_any": "どちらでもよい",
        "timing": "次にご案内を差し上げる時期",
        "timing_3": "3か月後から",
        "timing_6": "6か月後から",
        "timing_12": "12か月後から",
        "timing_never": "今後、求人のご案内は不要",
        "partner": "提携キャリア支援サービスのご案内",
        "partner_text": "当社が提携しております「{partner}」の、無料のキャリア相談などのご案内です。",
        "partner_yes": "受け取る",
        "partner_no": "受け取らない",
        "pool": "タレントプールへのご登録",
        "pool_text": "ご登録いただくと、{company}はあなたの応募時の情報を保管し、ご経験に合う求人が出た際に"
                     "ご案内することがあります。",
        "pool_until": "現在のご登録は{until}まで有効です。",
        "pool_forever": "現在ご登録いただいています。",
        "pool_none": "現在、ご登録はありません。",
        "pool_stay": "登録する（登録を続ける）",
        "pool_leave": "登録しない（登録をやめる）",
        "pool_renew": "今日から{days}日間（{renewed}まで）に更新する",
        "skills": "新たに身につけたスキル・資格",
        "skills_label": "スキル・資格（例：簿記2級、TOEIC 800、Python）",
        "save": "この内容で保存する",
        "data_title": "ご自身のデータについて",
        "copy_text": "{company}が保管しているあなたのデータの写しを、ご登録のメールアドレスあてに"
                     "お送りします。このページには表示いたしません。",
        "copy_button": "データの写しを依頼する",
        "erase_text": "{company}が保管しているあなたのデータの削除をお申し込みいただけます。"
                      "次の画面で確認をお願いしております。",
        "erase_button": "データの削除へ進む",
        "saved_title": "設定を保存しました",
        "saved_text": "ご希望を承りました。ありがとうございます。",
        "saved_families": "希望される職種",
        "saved_timing": "次のご案内の時期",
        "saved_pool": "タレントプール",
        "saved_none": "指定なし",
        "saved_in_pool": "ご登録あり（{until}まで）",
        "saved_in_pool_forever": "ご登録あり",
        "saved_not_in_pool": "ご登録なし",
        "change": "設定を変更する",
        "copy_title": "データの写しのご依頼を承りました",
        "copy_done": "担当者が確認のうえ、ご登録のメールアドレスあてにお送りします。セキュリティのため、"
                     "このページには表示いたしません。お届けまでお時間をいただく場合がございます。",
        "copy_again": "以前のご依頼を承っております。担当者が確認のうえ、ご登録のメールアドレスあてに"
                      "お送りします。",
        "confirm_title": "データの削除の確認",
        "confirm_text": "削除すると、{company}が保管しているあなたの応募情報、ご連絡の記録、このページの"
                        "設定などが削除され、元に戻すことはできません。今後、求人やタレントプールのご案内も"
                        "お送りできなくなります。削除してよろしいですか。",
        "confirm_button": "削除する",
        "back": "削除せずに設定ページへ戻る",
        "erased_title": "データを削除しました",
        "erased_text": "ご依頼に基づき、あなたのデータを削除しました。このリンクは今後ご利用いただけません。"
                       "これまでありがとうございました。",
        "version": "文言バージョン",
        "contact": "お問い合わせ",
    },
    "en": {
        "title": "Your preferences for future messages",
        "intro": "Thank you for your interest in {company}. Please let us know what you would like to hear "
                 "about from now on. Every question is optional, and you can change your answers on this "
                 "page at any time.",
        "last_saved": "Showing what you saved on {date}.",
        "families": "Kinds of work you would like to hear about",
        "families_hint": "You may choose several.",
        "other_interest": "Anything else you are looking for (free text)",
        "places": "Places of work",
        "places_hint": "Areas where we have openings. You may choose several.",
        "other_places": "Other places (for example: Sapporo, Fukuoka)",
        "remote": "Remote work",
        "remote_yes": "I would like remote work",
        "remote_no": "I would rather work on site",
        "remote_any": "Either is fine",
        "timing": "When we may write to you again",
        "timing_3": "In 3 months or later",
        "timing_6": "In 6 months or later",
        "timing_12": "In 12 months or later",
        "timing_never": "Please send me no more job announcements",
        "partner": "Career-support partner",
        "partner_text": "Information from our partner {partner}, such as free career consultations.",
        "partner_yes": "Send it to me",
        "partner_no": "Do not send it",
        "pool": "Talent pool",
        "pool_text": "While you are in our talent pool, {company} keeps the details of your application and "
                     "may write to you about openings that fit your experience.",
        "pool_until": "Your registration runs until {until}.",
        "pool_forever": "You are registered.",
        "pool_none": "You are not registered at the moment.",
        "pool_stay": "Join or stay in the talent pool",
        "pool_leave": "Leave the talent pool (or stay out of it)",
        "pool_renew": "Renew for {days} days from today (until {renewed})",
        "skills": "Skills and qualifications gained since",
        "skills_label": "Skills and qualifications (for example: bookkeeping, TOEIC 800, Python)",
        "save": "Save these preferences",
        "data_title": "Your data",
        "copy_text": "We will send a copy of the data {company} holds about you to the e-mail address we "
                     "have on file. It is never shown on this page.",
        "copy_button": "Ask for a copy of my data",
        "erase_text": "You can ask {company} to erase the data it holds about you. We will ask you to "
                      "confirm on the next page.",
        "erase_button": "Continue to erasure",
        "saved_title": "Preferences saved",
        "saved_text": "Thank you; we have noted your preferences.",
        "saved_families": "Kinds of work",
        "saved_timing": "When we may write again",
        "saved_pool": "Talent pool",
        "saved_none": "No preference",
        "saved_in_pool": "Registered (until {until})",
        "saved_in_pool_forever": "Registered",
        "saved_not_in_pool": "Not registered",
        "change": "Change your preferences",
        "copy_title": "We have received your request for a copy",
        "copy_done": "Our staff will check it and send the copy to the e-mail address we have on file. For "
                     "your security it is never shown on this page. It may take a few days to arrive.",
        "copy_again": "We have already received your request. Our staff will send the copy to the e-mail "
                      "address we have on file.",
        "confirm_title": "Confirm erasure",
        "confirm_text": "Erasing removes the details of your applications, the record of our messages to you "
                        "and your preferences held by {company}; it cannot be undone. We will then not be "
                        "able to tell you about openings either. Do you want to erase your data?",
        "confirm_button": "Erase my data",
        "back": "Go back without erasing",
        "erased_title": "Your data has been erased",
        "erased_text": "As you asked, we have erased your data. This link no longer works. Thank you for "
                       "your interest in us.",
        "version": "Wording version",
        "contact": "Contact",
    },
}
