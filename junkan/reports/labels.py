"""What the report calls each KPI and section, in Japanese and English, and how a value is written."""

from __future__ import annotations

import re
from typing import Any, TypeVar

Lang = str  # "ja" or "en"
T = TypeVar("T")

GROUPS: dict[str, tuple[str, str]] = {
    "funnel": ("選考ファネル", "Funnel"),
    "follow_up": ("フォローアップ", "Follow-up"),
    "email": ("メール", "E-mail"),
    "partner": ("パートナー", "Partner"),
    "pool": ("タレントプール", "Talent pool"),
    "reapplication": ("再応募", "Re-application"),
    "cost": ("採用単価と ROI", "Cost per hire and ROI"),
    # The preference page's figures (sql/reports/preference_*.sql).
    "preference_page": ("今後のご案内の設定（ご本人のページ）", "The candidate's own page"),
}

KPIS: dict[str, tuple[str, str]] = {
    "applications": ("応募数", "Applications"),
    "hires": ("採用数", "Hires"),
    "rejections": ("不採用数", "Rejections"),
    "withdrawals": ("辞退数", "Withdrawals"),
    "reapplications": ("再応募者数", "Candidates who re-applied"),
    "follow_up_rate": ("フォローアップ率", "Follow-up rate"),
    "email_delivered_rate": ("到達率", "Delivered rate"),
    "email_bounced_rate": ("バウンス率", "Bounced rate"),
    "email_opened_rate": ("開封率", "Opened rate"),
    "email_clicked_rate": ("クリック率", "Clicked rate"),
    "partner_link_clicks": ("パートナーリンクのクリック数", "Partner link clicks"),
    "partner_registrations": ("パートナー登録数", "Partner registrations"),
    "partner_registration_rate": ("登録率", "Registration rate"),
    "credits_earned": ("獲得クレジット", "Credits earned"),
    "credits_redeemed": ("利用クレジット", "Credits redeemed"),
    "credit_value": ("利用クレジットの価値", "Credit value"),
    "pool_size": ("プール人数", "Pool size"),
    "pool_eligibility": ("プール内のシルバー層の割合", "Silver share of the pool"),
    "pool_consents_expiring_30d": ("30日以内に期限切れの同意", "Consents expiring in 30 days"),
    "pool_matched": ("新しい求人にマッチした人", "People matched to new positions"),
    "recontacts_sent": ("再コンタクト送信数", "Re-contacts sent"),
    "recontact_click_rate": ("再コンタクトのクリック率", "Re-contact click rate"),
    "reapplication_rate": ("不採用者の再応募率", "Re-application rate of rejected candidates"),
    "reapplication_rate_vs_baseline": ("再応募率（導入前比）", "Re-application rate vs baseline"),
    "reapplications_via_recontact": ("再コンタクト経由の再応募", "Re-applications through re-contact"),
    "hires_from_pool": ("プールからの採用", "Hires from the pool"),
    "recontact_reapplication_rate": ("再コンタクト群の再応募率", "Re-application rate, re-contacted"),
    "holdout_reapplication_rate": ("対照群（送らなかった人）の再応募率", "Re-application rate, held out"),
    "recontact_lift": ("再コンタクトの効果（対照群比）", "Re-contact lift over holdout"),
    "cost_per_hire": ("採用単価（全費用）", "Cost per hire (all costs)"),
    "cost_per_hire_comparable": ("採用単価（他社比較用）", "Cost per hire (comparable)"),
    "hire_cost_ratio": ("採用コスト比率", "Hire-cost ratio"),
    "cost_per_hire_change": ("採用単価の変化（導入前比）", "Cost per hire change vs baseline"),
    "savings_partner_credits": ("パートナークレジットによる削減", "Savings from partner credits"),
    "savings_pool_hires": ("プール採用による削減", "Savings from pool hires"),
    "roi": ("投資対効果（ROI）", "ROI"),
    # The preference page's figures (sql/reports/preference_*.sql).
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

#: Names of the inputs shown beside a figure; an input without a name here is not shown to the reader.
INPUTS: dict[str, tuple[str, str]] = {
    "followed_up": ("期限内に通知", "notified in time"), "eligible": ("対象の不採用", "rejections counted"),
    "before_go_live": ("導入前に期限切れ（参考）", "before go-live (history)"),
    "excluded_policy": ("対象外（配信停止・匿名化・古い決定）", "excluded (opt-out, erased, too old)"),
    "no_address": ("宛先なし", "no address"), "late": ("期限後に通知", "notified late"),
    "not_sent": ("未送信", "not sent"), "n": ("件数", "count"),
    "delivered": ("到達", "delivered"), "bounced": ("不達", "bounced"), "opened": ("開封", "opened"),
    "clicked": ("クリック", "clicked"), "sent": ("送信", "sent"),
    "reported": ("配信事業者の報告があったメール", "mails the provider reported on"),
    "earned": ("獲得", "earned"), "redeemed": ("利用", "used"),
    "redeemed_value_yen": ("利用額", "value used"),
    "expired": ("失効", "expired"), "earned_value_yen": ("獲得額", "value earned"),
    "clicks": ("クリック", "clicks"), "registrations": ("登録", "registrations"),
    "notices_with_link": ("リンク付き通知", "notices with the link"),
    "via_click": ("リンク経由の登録", "registered after a click"),
    "via_code": ("紹介コード入力による登録", "registered with a typed code"),
    "suspicious": ("要確認（集計外）", "suspicious (not counted)"),
    "expiring": ("期限切れ予定", "expiring"), "hired": ("採用", "hired"),
    "holdout_hired": ("対照群からの採用（参考）", "hired from the holdout (reference)"),
    "members": ("プール人数", "members"), "silver": ("シルバー層", "silver"),
    "standard": ("標準", "standard"),
    "contacted": ("再コンタクト経由", "after a re-contact"), "same_job": ("同じ求人へ", "same job"),
    "holdout": ("対照群（参考）", "holdout (reference)"),
    "reapplied": ("再応募した人", "re-applied"), "rejected_candidates": ("過去の不採用者", "rejected before"),
    "contacted_reapplied": ("再応募（送った群）", "re-applied, contacted"),
    "contacted_people": ("送った人", "contacted"),
    "holdout_reapplied": ("再応募（対照群）", "re-applied, held out"),
    "holdout_people": ("対照群の人数", "held out"),
    "more_needed": ("あと必要な人数", "more people needed"),
    "people": ("人数", "people"), "matches": ("求人との組み合わせ", "person–position pairs"),
    "shortlisted": ("採用担当者への候補リスト", "shortlisted for recruiters"),
    "auto_matched": ("自動再コンタクトの対象（対照群を含む）", "in automatic re-contact (holdout included)"),
    "hires": ("採用数", "hires"), "hires_from_pool": ("プールからの採用", "hires from the pool"),
    "advertising_yen": ("広告費", "advertising"), "agency_fees_yen": ("人材紹介手数料", "agency fees"),
    "other_external_yen": ("その他の社外費用", "other external costs"),
    "recruiter_time_yen": ("採用担当者の人件費", "recruiters' time"),
    "other_internal_yen": ("その他の社内費用", "other internal costs"),
    "running_cost_yen": ("Junkan の運用費", "Junkan's running cost"),
    "first_year_pay_yen": ("採用者の初年度年収", "first-year pay"),
    "costs_yen": ("採用費用の合計", "all costs"),
    "cost_per_hire": ("採用単価", "cost per hire"),
    "baseline_cost_per_hire": ("導入前の採用単価", "baseline cost per hire"),
    "baseline_reapplication_rate": ("導入前の再応募率", "baseline re-application rate"),
    "reapplication_rate": ("再応募率", "re-application rate"),
    "credits_redeemed": ("利用クレジット", "credits used"),
    "credit_value": ("クレジットの価値", "credit value"),
    "savings_pool_hires": ("プール採用による削減", "savings from pool hires"),
    # The preference page's figures (sql/reports/preference_*.sql).
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
#: Inputs in yen and as rates, for their formatting.
YEN_INPUTS = {k for k in INPUTS if k.endswith("_yen") or k in (
    "cost_per_hire", "baseline_cost_per_hire", "credit_value", "savings_pool_hires")}
RATE_INPUTS = {"baseline_reapplication_rate", "reapplication_rate"}

#: Each figure's definition: (numerator, denominator or None for a count, which date puts it in the period).
_D = tuple[str, str | None, str]
#: The denominator of the preference page's timing rates.
_SAVERS = ("期間内に設定を保存した人（各人の期間末までの最新の保存）",
           "people who saved in the period (each by their newest save before its end)")
DEFINITIONS: dict[str, tuple[_D, _D]] = {
    "applications": (("期間内の応募", None, "応募日"), ("applications", None, "application date")),
    "hires": (("期間内に採用が決まった応募", None, "決定日"), ("applications hired", None, "decision date")),
    "rejections": (("期間内に不採用が決まった応募", None, "決定日"),
                   ("applications rejected", None, "decision date")),
    "withdrawals": (("期間内の辞退", None, "決定日"), ("applications withdrawn", None, "decision date")),
    "reapplications": (("期間開始前に不採用となり、期間内にもう一度応募した人（1人1回）", None, "応募日"),
                       ("people rejected before the period who applied again in it (once each)", None,
                        "application date")),
    "follow_up_rate": (("期限（営業日）内に不採用通知を送った件数", "導入後の不採用のうち対象となるもの",
                        "決定日"),
                       ("rejections notified within the SLA (business days)",
                        "rejections after go-live, less exclusions", "decision date")),
    "email_delivered_rate": (("到達したメール", "送信したメールのうち配信事業者の報告があったもの", "送信日"),
                             ("delivered", "mails sent that the provider reported on", "sending date")),
    "email_bounced_rate": (("不達となったメール", "送信したメールのうち配信事業者の報告があったもの",
                            "送信日"),
                           ("bounced", "mails sent that the provider reported on", "sending date")),
    "email_opened_rate": (("開封されたメール", "送信したメールのうち配信事業者の報告があったもの", "送信日"),
                          ("opened", "mails sent that the provider reported on", "sending date")),
    "email_clicked_rate": (("リンクがクリックされたメール", "送信したメール", "送信日"),
                           ("clicked", "sent", "sending date")),
    "partner_link_clicks": (("パートナーリンクのクリック（延べ）", None, "クリック日"),
                            ("partner link clicks (all)", None, "click date")),
    "partner_registrations": (("パートナーが登録を報告した紹介（リンク経由＋紹介コード入力）",
                               None, "登録日"),
                              ("registrations reported by the partner (after a click or a typed code)", None,
                               "registration date")),
    "partner_registration_rate": (("パートナー登録", "パートナーリンク付きで送った通知", "送信日・登録日"),
                                  ("registrations", "notices sent with the partner link",
                                   "sending and registration dates")),
    "credits_earned": (("獲得したクレジット", None, "計上日"), ("credits earned", None, "entry date")),
    "credits_redeemed": (("採用に利用したクレジット", None, "計上日"),
                         ("credits used for hires", None, "entry date")),
    "credit_value": (("利用したクレジットの金額", None, "計上日"),
                     ("value of the credits used", None, "entry date")),
    "pool_size": (("期間末のプール人数", None, "期間末"), ("pool members", None, "end of the period")),
    "pool_eligibility": (("シルバー層の人数", "プール人数", "期間末"),
                         ("silver members", "members", "end of the period")),
    "pool_consents_expiring_30d": (("期間末から30日以内に同意期限を迎える人", None, "期間末"),
                                   ("consents ending within 30 days after the period",
                                    None, "end of the period")),
    "pool_matched": (("再コンタクトの実行で新しい求人にマッチした人（実行ごとに1人1回）", None, "実行日"),
                     ("people a re-contact run matched to a new position (once per run)", None, "run date")),
    "recontacts_sent": (("送った再コンタクトメール", None, "送信日"),
                        ("re-contact mails sent", None, "sending date")),
    "recontact_click_rate": (("クリックされた再コンタクトメール", "送った再コンタクトメール", "送信日"),
                             ("clicked", "re-contact mails sent", "sending date")),
    "reapplication_rate": (("期間内にもう一度応募した人", "期間開始前に不採用となった人", "応募日"),
                           ("people who applied again", "people rejected before the period",
                            "application date")),
    "reapplication_rate_vs_baseline": (("再応募率", "導入前の再応募率", "応募日"),
                                       ("re-application rate", "baseline re-application rate",
                                        "application date")),
    "reapplications_via_recontact": (("再コンタクトを受けて応募した人", None, "応募日"),
                                     ("people who applied after a re-contact", None, "application date")),
    "hires_from_pool": (("プールから採用した人", None, "決定日"),
                        ("hires from the pool", None, "decision date")),
    "recontact_reapplication_rate": (("再応募した人", "再コンタクトを送った人", "実行日"),
                                     ("re-applied", "people contacted", "run date")),
    "holdout_reapplication_rate": (("再応募した人", "対照群（あえて送らなかった人）", "実行日"),
                                   ("re-applied", "people held out", "run date")),
    "recontact_lift": (("送った群の再応募率", "対照群の再応募率（95%信頼区間つき）", "実行日"),
                       ("re-application rate, contacted", "that of the holdout (with a 95% interval)",
                        "run date")),
    "cost_per_hire": (("採用費用（社外＋社内）", "採用数", "月"), ("all recruiting costs", "hires", "month")),
    "cost_per_hire_comparable": (("社外費用＋採用担当者の人件費", "採用数", "月"),
                                 ("external costs and recruiters' time", "hires", "month")),
    "hire_cost_ratio": (("採用費用", "採用者の初年度年収", "月"),
                        ("recruiting costs", "first-year pay", "month")),
    "cost_per_hire_change": (("採用単価 − 導入前の採用単価", "導入前の採用単価", "月"),
                             ("cost per hire − baseline", "baseline", "month")),
    "savings_partner_credits": (("利用したクレジットの金額", None, "計上日"),
                                ("value of credits used", None, "entry date")),
    "savings_pool_hires": (("プールからの採用 × 導入前の採用単価", None, "決定日"),
                           ("hires from the pool × baseline cost per hire", None, "decision date")),
    "roi": (("プール採用による削減＋クレジットの価値 − Junkan の運用費", "Junkan の運用費", "月"),
            ("savings from pool hires + credit value − running cost", "running cost", "month")),
    # The preference page's figures (sql/reports/preference_*.sql).
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


#: Kinds of mail and their templates as the breakdown names them.
MAIL_KINDS: dict[str, tuple[str, str]] = {
    "rejection": ("不採用通知", "Rejection notice"),
    "rejection.final_interview": ("不採用通知（最終面接後）", "Rejection notice (after the final interview)"),
    "withdrawal": ("辞退のお礼", "Withdrawal thanks"),
    "recontact": ("再コンタクト", "Re-contact"),
    "consent_renewal": ("同意更新のお願い", "Consent renewal"),
    "report": ("月次レポート", "Monthly report"),
}


def dim_value(dim: str, value: Any, lang: Lang) -> str:
    """A breakdown's row name: mail kinds and templates in words, a missing department said so."""
    if value is None or value == "":
        return text("none_dept", lang) if dim == "department" else "—"
    if dim in ("kind", "template_name") and str(value) in MAIL_KINDS:
        return _pick(MAIL_KINDS[str(value)], lang)
    return str(value)


def definition(name: str, lang: Lang) -> str:
    """分子・分母・対象期間 of a figure, in one line."""
    if name not in DEFINITIONS:
        return ""
    num, den, basis = _pick(DEFINITIONS[name], lang)
    if lang == "ja":
        parts = [f"分子：{num}"] + ([f"分母：{den}"] if den else []) + [f"対象期間の基準：{basis}"]
        return "／".join(parts) if den else f"数えるもの：{num}／対象期間の基準：{basis}"
    parts = [f"numerator: {num}"] + ([f"denominator: {den}"] if den else []) + [f"period by: {basis}"]
    return "; ".join(parts) if den else f"counts: {num}; period by: {basis}"


def input_label(key: str, lang: Lang) -> str | None:
    return _pick(INPUTS[key], lang) if key in INPUTS else None

TEXT: dict[str, tuple[str, str]] = {
    "title": ("採用 KPI・ROI レポート", "Hiring KPI and ROI report"),
    "period": ("対象期間", "Period"),
    "headline": ("主要指標", "Headline figures"),
    "kpi": ("指標", "KPI"),
    "value": ("値", "Value"),
    "inputs": ("入力値", "Inputs"),
    "previous": ("前期間", "Previous period"),
    "note": ("備考", "Note"),
    "charts": ("グラフ", "Charts"),
    "breakdown": ("内訳", "Breakdown"),
    "computed_at": ("計算日時", "Computed at"),
    "snapshot_reused": ("保存済みのスナップショットから表示（再計算は --recompute）",
                        "Shown from the stored snapshot (recompute with --recompute)"),
    "inputs_used": ("計算に使った入力", "Inputs used"),
    "funnel_chart": ("選考ファネル", "Funnel"),
    "trend_chart": ("フォローアップ率と再応募率の推移（データのない月は空白）",
                    "Follow-up and re-application rates by month (gaps: no data)"),
    "credits_chart": ("獲得クレジットの推移", "Credits earned by month"),
    "partner_chart": ("パートナー比較", "Partner comparison"),
    "month": ("月", "Month"),
    "count": ("件数", "Count"),
    "rate": ("率", "Rate"),
    "credits": ("クレジット", "Credits"),
    "missing": ("—", "—"),
    "ci95": ("95%信頼区間", "95% CI"),
    "no_data": ("データなし", "No data"),
    "baseline": ("導入前", "Baseline"),
    "change_prev": ("前期間比", "vs previous period"),
    "definition": ("定義", "Definition"),
    "definitions": ("指標の定義", "Definitions"),
    "as_of": ("{day}時点", "as of {date}"),
    "timezone": ("時刻はすべて {tz}", "All times in {tz}"),
    "go_live": ("Junkan 導入", "Junkan go-live"),
    "go_live_setting": ("設定値", "setting"),
    "go_live_first_notice": ("最初の不採用通知の送信", "first rejection notice sent"),
    "go_live_queued": ("Junkan は不採用通知を用意済みで、まだ送信していません",
                       "Junkan has queued rejection notices but sent none yet"),
    "go_live_none": ("Junkan はまだ不採用通知を送っていません", "Junkan has not sent a rejection notice yet"),
    "history_note": (
        "導入時点ですでに通知期限を過ぎていた不採用 {n} 件は、導入前の参考値として別に示し、"
        "フォローアップ率には含めません。",
        "{n} rejections whose notice deadline had passed before go-live are history: shown apart, not in "
        "the follow-up rate."),
    "loop": ("循環の全体像", "The loop"),
    "loop_note": ("矢印の数字は前の段階からの割合です。",
                  "The figures on the arrows are the share of the step before."),
    "loop_shortlist_note": (
        "候補リストの人にはメールを送らず、採用担当者が直接連絡します。候補リストからの応募も再応募に数えます。",
        "Shortlisted people get no mail: the recruiters contact them themselves. Their applications count as "
        "re-applications too."),
    "cards": ("主要指標", "Headline figures"),
    "trends": ("月次推移", "Monthly trends"),
    "lift": ("再コンタクトの効果", "Re-contact lift"),
    "partners": ("パートナー比較", "Partner comparison"),
    "details": ("指標の詳細", "All figures"),
    "settings_needed": ("設定が必要な項目", "Settings needed"),
    "paths": ("パートナー登録の経路", "How registrations came"),
    "breakdown_by_department": ("部署別", "By department"),
    "breakdown_email": ("メールの種類別", "By kind of e-mail"),
    "breakdown_partners": ("パートナー別", "By partner"),
    "dim_department": ("部署", "Department"),
    "dim_kind": ("メールの種類", "Kind"),
    "dim_template_name": ("テンプレート", "Template"),
    "dim_template_version": ("版", "Version"),
    "dim_partner": ("パートナー", "Partner"),
    "none_dept": ("（部署なし）", "(no department)"),
    "loop_empty": ("期間内に不採用・通知・プールの動きがなく、循環を描けません。",
                   "Nothing moved through the loop in the period: no rejection, notice or pool activity."),
    "funnel_empty": ("期間内に応募も選考結果もありません。", "No application or decision in the period."),
    "trend_empty": ("どの月にもフォローアップ率・再応募率を計算できるデータがありません。",
                    "No month has the data for a follow-up or re-application rate."),
    "credits_empty": ("まだパートナーのクレジットを獲得していません。",
                      "No partner credit has been earned yet."),
    "lift_empty": (
        "まだ自動再コンタクトを実行していないため、送った群と対照群を比べられません。",
        "No automatic re-contact has run yet: there is no contacted group and holdout to compare."),
    "xlsx_about": ("このレポートについて", "About"),
    "need_costs": (
        "月次コスト（{fields}）が {months} について未入力です。"
        "下のひな形を CSV ファイルとして保存して金額（円）を記入し、"
        "環境変数 JUNKAN_REPORT__COSTS_CSV にそのファイルの場所を設定してください。",
        "Monthly costs ({fields}) are not set for {months}. Save the template below as a CSV file, "
        "fill in the amounts in yen, and set JUNKAN_REPORT__COSTS_CSV to its location."),
    "need_baseline_cost_per_hire": (
        "導入前の採用単価が未設定です。環境変数 JUNKAN_REPORT__BASELINE__COST_PER_HIRE_YEN に"
        "金額（円、例 1100000）を設定してください。",
        "The baseline cost per hire is not set: set "
        "JUNKAN_REPORT__BASELINE__COST_PER_HIRE_YEN to the amount in yen (e.g. 1100000)."),
    "need_baseline_reapplication_rate": (
        "導入前の再応募率が未設定です。環境変数 JUNKAN_REPORT__BASELINE__REAPPLICATION_RATE"
        " に割合（例 2% なら 0.02）を設定してください。",
        "The baseline re-application rate is not set: set "
        "JUNKAN_REPORT__BASELINE__REAPPLICATION_RATE to a share (0.02 for 2%)."),
    "need_go_live": (
        "Junkan がまだ不採用通知を送っていないため導入日がわかりません。"
        "すでに運用している場合は環境変数 JUNKAN_REPORT__GO_LIVE に"
        "導入日（例 2026-10-01）を設定してください。",
        "Junkan has sent no rejection notice yet, so its go-live is unknown. If it is running, set "
        "JUNKAN_REPORT__GO_LIVE to the day it started (e.g. 2026-10-01)."),
    "template": ("ひな形", "Template"),
    "contacted_group": ("送った群", "Contacted"),
    "holdout_group": ("対照群", "Held out"),
    "people": ("{n} 人", "{n} people"),
    "reapplication_pct": ("再応募率（%）・横線は95%信頼区間", "Re-application rate (%), lines: 95% interval"),
    "mail": ("メール配布", "Distribution"),
    "mail_not_monthly": (
        "月単位の締まった期間ではないため、レポートはメールで配布していません（配布は前月分の月次レポートのみ）。",
        "Not mailed: only the report of a whole month that has ended is mailed to the recipients."),
    "mail_no_recipients": (
        "配布先が設定されていないため、メールは送っていません（環境変数 JUNKAN_REPORT__RECIPIENTS に"
        "社内のメールアドレスを設定すると、毎月 PDF をお送りします）。",
        "Not mailed: no recipients are set (set JUNKAN_REPORT__RECIPIENTS to internal addresses to mail "
        "the PDF every month)."),
    "mail_done": (
        "配布先 {recipients} 件：今回送信 {sent} 件、以前の実行で送付済み {already} 件、失敗 {failed} 件、"
        "停止 {stopped} 件、結果不明 {unknown} 件、次回に再送 {pending} 件。",
        "{recipients} recipient(s): {sent} sent now, {already} mailed before, {failed} failed, "
        "{stopped} stopped, {unknown} unknown, {pending} left for the next run."),
}


def _pick(pair: tuple[T, T], lang: Lang) -> T:
    return pair[0] if lang == "ja" else pair[1]


def kpi_label(name: str, lang: Lang) -> str:
    return _pick(KPIS[name], lang) if name in KPIS else name


def group_label(group: str, lang: Lang) -> str:
    return _pick(GROUPS[group], lang) if group in GROUPS else group


def text(key: str, lang: Lang) -> str:
    return _pick(TEXT[key], lang)


def fmt(value: Any, unit: str, name: str = "") -> str:
    """A value as the report writes it; "—" when there is none."""
    if value is None:
        return "—"
    if unit == "rate":
        return f"{value * 100:.1f}%"
    if unit == "yen":
        return f"¥{round(value):,}"
    if unit == "ratio":
        if name.endswith(("_vs_baseline", "_lift")):
            return f"{value:.2f}×"
        return f"{value * 100:+.1f}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def fmt_input(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


#: The reasons a figure has no value, in Japanese. Figures store the English reason (snapshots and JSON are
#: for scripts); the Japanese report translates it here, phrase by phrase, so a composite reason comes out
#: whole. Input names (`running_cost_yen`) become the reader's words in both languages (`_named`).
_REASONS_JA: tuple[tuple[str, str], ...] = (
    # The preference page's reasons, tried before the shared phrases.
    (r"nobody saved the preference page in the period", "期間内に設定を保存した人がいません"),
    (r"nobody in this group among the people rejected before the period",
     "期間開始前に不採用となった人のうち、この群に当たる人がいません"),
    (r"not enough data \((\d+) rejected candidates, minimum (\d+)\)",
     r"データ不足（過去の不採用者 \1 人、最低 \2 人必要）"),
    (r"not enough data \((\d+) contacted, (\d+) held out, minimum (\d+) each; "
     r"(\d+) more (?:person|people) needed\)",
     r"データ不足（送った群 \1 人、対照群 \2 人。各群最低 \3 人、あと \4 人必要）"),
    (r"no re-application in the holdout group: the lift is undefined",
     "対照群に再応募がなく、効果を計算できません"),
    (r" ?\(the period does not cover whole months; costs are monthly\)",
     "（期間が月単位ではありません。コストは月ごとに入力します）"),
    (r" ?\(no cost row for ([^)]*)\)", r"（\1 のコストが未入力）"),
    (r"Junkan has not sent a rejection notice yet: every rejection is history",
     "Junkan はまだ不採用通知を送っていません（期間内の不採用はすべて導入前の参考値です）"),
    (r"no savings recorded yet \(no hire from the pool, no credit used\)",
     "まだ削減効果が記録されていません（プールからの採用もクレジットの利用もまだありません）"),
    (r"missing input: baseline re-application rate", "未設定：導入前の再応募率"),
    (r"missing input: ", "未設定："),
    (r"baseline cost per hire is zero", "導入前の採用単価が 0 です"),
    (r"baseline cost per hire", "導入前の採用単価"),
    (r"first-year pay is zero", "初年度年収が 0 です"),
    (r"running cost is zero", "運用費が 0 です"),
    (r"no hires in the period", "期間内の採用がありません"),
    (r"no messages sent in the period", "期間内に送信したメールがありません"),
    (r"the mail provider reported nothing about the period's mails \(the file and SMTP backends report no "
     r"deliveries, bounces or opens\)",
     "期間内のメールについて配信事業者からの報告がありません（ファイル出力や SMTP での送信では、到達・不達・"
     "開封は報告されません）"),
    (r"no rejections to follow up in the period", "期間内にフォローアップ対象の不採用がありません"),
    (r"no notices carrying a partner link in the period", "期間内にパートナーリンク付きの通知がありません"),
    (r"the talent pool is empty", "タレントプールが空です"),
    (r"no candidates rejected before the period", "期間開始前に不採用となった人がいません"),
    (r"no auto re-contact run in the period", "期間内に自動再コンタクトの実行がありません"),
    (r"no re-contact mail sent in the period", "期間内に送信した再コンタクトメールがありません"),
    (r"nothing to measure in the period", "期間内に計測対象がありません"),
    (r"data not available yet", "データがまだありません"),
    (r" ?\(", "（"),
    (r"\)", "）"),
    (r", ", "、"),
)
_IDENT = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def _named(text_: str, lang: Lang) -> str:
    return _IDENT.sub(lambda m: input_label(m.group(0), lang) or m.group(0), text_)


def missing_text(reason: str | None, lang: Lang) -> str:
    """Why a figure has no value, in the report's language; "" when it has one."""
    if not reason:
        return ""
    out = _named(reason, lang)
    if lang != "ja":
        return out
    for pattern, repl in _REASONS_JA:
        out = re.sub(pattern, repl, out)
    return out
