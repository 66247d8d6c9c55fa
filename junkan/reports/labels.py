"""What the report calls each KPI and section, in Japanese and English, and how a value is written."""

from __future__ import annotations

import re
from typing import Any

Lang = str  # "ja" or "en"

GROUPS: dict[str, tuple[str, str]] = {
    "funnel": ("選考ファネル", "Funnel"),
    "follow_up": ("フォローアップ", "Follow-up"),
    "email": ("メール", "E-mail"),
    "partner": ("パートナー", "Partner"),
    "pool": ("タレントプール", "Talent pool"),
    "reapplication": ("再応募", "Re-application"),
    "cost": ("採用単価と ROI", "Cost per hire and ROI"),
}

KPIS: dict[str, tuple[str, str]] = {
    "applications": ("応募数", "Applications"),
    "hires": ("採用数", "Hires"),
    "rejections": ("不採用数", "Rejections"),
    "withdrawals": ("辞退数", "Withdrawals"),
    "reapplications": ("再応募数", "Re-applications"),
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
    "pool_eligibility": ("適格性の内訳（シルバーの割合）", "Eligibility breakdown (silver share)"),
    "pool_consents_expiring_30d": ("30日以内に期限切れの同意", "Consents expiring in 30 days"),
    "recontacts_sent": ("再コンタクト送信数", "Re-contacts sent"),
    "recontact_click_rate": ("再コンタクトのクリック率", "Re-contact click rate"),
    "reapplication_rate": ("不採用者の再応募率", "Re-application rate of rejected candidates"),
    "reapplication_rate_vs_baseline": ("再応募率（ベースライン比）", "Re-application rate vs baseline"),
    "reapplications_via_recontact": ("再コンタクト経由の再応募", "Re-applications through re-contact"),
    "hires_from_pool": ("プールからの採用", "Hires from the pool"),
    "recontact_reapplication_rate": ("再コンタクト群の再応募率", "Re-application rate, re-contacted"),
    "holdout_reapplication_rate": ("ホールドアウト群の再応募率", "Re-application rate, held out"),
    "recontact_lift": ("再コンタクトのリフト（対ホールドアウト）", "Re-contact lift over holdout"),
    "cost_per_hire": ("採用単価（CPHI）", "Cost per hire (CPHI)"),
    "cost_per_hire_comparable": ("採用単価（CPHC）", "Cost per hire (CPHC)"),
    "hire_cost_ratio": ("採用コスト比率", "Hire-cost ratio"),
    "cost_per_hire_change": ("採用単価の変化（ベースライン比）", "Cost per hire change vs baseline"),
    "savings_partner_credits": ("パートナークレジットによる削減", "Savings from partner credits"),
    "savings_pool_hires": ("プール採用による削減", "Savings from pool hires"),
    "roi": ("ROI", "ROI"),
}

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
    "trend_chart": ("フォローアップ率と再応募率の推移", "Follow-up and re-application rates by month"),
    "credits_chart": ("獲得クレジットの推移", "Credits earned by month"),
    "partner_chart": ("パートナー比較", "Partner comparison"),
    "month": ("月", "Month"),
    "count": ("件数", "Count"),
    "rate": ("率", "Rate"),
    "credits": ("クレジット", "Credits"),
    "missing": ("—", "—"),
    "ci95": ("95%信頼区間", "95% CI"),
}


def _pick(pair: tuple[str, str], lang: Lang) -> str:
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
#: for scripts); the Japanese report translates it here, phrase by phrase, so a composite reason ("ROI:
#: missing input: running_cost_yen (no cost row for 2027-03)") comes out whole. Input names stay as they are
#: configured (`running_cost_yen`): they are what the reader has to set.
_REASONS_JA: tuple[tuple[str, str], ...] = (
    (r"not enough data \((\d+) rejected candidates, minimum (\d+)\)",
     r"データ不足（不採用者 \1 人、最低 \2 人）"),
    (r"not enough data \((\d+) contacted, (\d+) held out, minimum (\d+) each\)",
     r"データ不足（再コンタクト \1 人、ホールドアウト \2 人、各群最低 \3 人）"),
    (r"no re-application in the holdout group: the lift is undefined",
     "ホールドアウト群に再応募がなく、リフトを計算できません"),
    (r" ?\(the period does not cover whole months; costs are monthly\)",
     "（期間が月単位ではありません。コストは月ごとに入力します）"),
    (r" ?\(no cost row for ([^)]*)\)", r"（\1 のコスト入力がありません）"),
    (r"no baseline configured \(report\.baseline\)", "ベースライン未設定（report.baseline）"),
    (r"baseline period (\S+)", r"ベースライン期間 \1"),
    (r"configured figure", "設定値"),
    (r"missing input: baseline cost per hire", "入力がありません：ベースラインの採用単価"),
    (r"missing input: baseline", "入力がありません：ベースライン"),
    (r"missing input: ", "入力がありません："),
    (r"baseline cost per hire is zero", "ベースラインの採用単価が 0 です"),
    (r"first-year pay is zero", "初年度年収が 0 です"),
    (r"running cost is zero", "運用コストが 0 です"),
    (r"no hires in the period", "期間内の採用がありません"),
    (r"no messages sent in the period", "期間内に送信したメールがありません"),
    (r"no rejections to follow up in the period", "期間内にフォローアップ対象の不採用がありません"),
    (r"no notices carrying a partner link in the period", "期間内にパートナーリンク付きの通知がありません"),
    (r"the talent pool is empty", "タレントプールが空です"),
    (r"no candidates rejected before the period", "期間開始前に不採用となった候補者がいません"),
    (r"no auto re-contact run in the period", "期間内に自動再コンタクトの実行がありません"),
    (r"no re-contact mail sent in the period", "期間内に送信した再コンタクトメールがありません"),
    (r"nothing to measure in the period", "期間内に計測対象がありません"),
    (r"data not available yet", "データがまだありません"),
    (r" ?\(", "（"),
    (r"\)", "）"),
    (r", ", "、"),
)


def missing_text(reason: str | None, lang: Lang) -> str:
    """Why a figure has no value, in the report's language; "" when it has one."""
    if not reason:
        return ""
    if lang != "ja":
        return reason
    out = reason
    for pattern, repl in _REASONS_JA:
        out = re.sub(pattern, repl, out)
    return out
