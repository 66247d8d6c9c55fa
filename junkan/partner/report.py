"""The `sync-partner-stats` artifact: each partner's figures (`ledger.PartnerSummary.as_dict()`) as one
markdown table with notes, Japanese first, then English. Pure formatting, so it lives in the library."""

from __future__ import annotations

from typing import Any


def _yen(value: int) -> str:
    return f"¥{value:,}"


def render_markdown(summaries: list[dict[str, Any]], failed: list[str]) -> str:
    lines = ["# パートナー紹介とクレジット / Partner referrals and credits", ""]
    if summaries:
        first = summaries[0]
        span = f"{first['period_start']} – {first['period_end']}"
        lines += [f"対象期間（今月）/ Period: {span} (month to date)", ""]
    lines += [
        "| パートナー / partner | 登録（期間）/ registrations (period) "
        "| 登録（累計）/ registrations (all-time) | 面接 / interviewed | 入社 / placed "
        "| 獲得クレジット / credits earned | 利用 / redeemed "
        "| 失効 / expired | 残高 / balance | 次のクレジットまで / next credit | 金額 / value |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: |",
    ]
    for s in summaries:
        name = s["partner"] + (" （**取り込み失敗** / **sync failed**）" if s["partner"] in failed else "")
        lines.append(
            f"| {name} | {s['registrations_period']} | {s['registrations_all_time']} "
            f"| {s['interviewed_all_time']} | {s['placed_all_time']} | {s['credits_earned']} "
            f"| {s['credits_redeemed']} | {s['credits_expired']} | {s['balance']} | {s['progress']} "
            f"| {_yen(s['value_yen'])} |"
        )
    notes = []
    for s in summaries:
        if s["counted_status"] != "registered":
            notes.append(
                f"- {s['partner']}: クレジットは `{s['counted_status']}` の紹介で数えます（これまで "
                f"{s['counted_all_time']} 件）。 / credits count `{s['counted_status']}` referrals "
                f"({s['counted_all_time']} so far)."
            )
        if s["suspicious"]:
            notes.append(
                f"- {s['partner']}: 要確認の紹介 {s['suspicious']} 件（通知の送信より前に報告されたもの）。"
                f"確認してください。 / {s['suspicious']} referral(s) flagged suspicious "
                "(reported before the notice was accepted); review them."
            )
        if s["quarantined"]:
            notes.append(
                f"- {s['partner']}: 隔離した報告 {s['quarantined']} 件（不明・偽造・不正な形式のコード）。"
                f"集計には含めません。 / {s['quarantined']} reported item(s) in quarantine "
                "(unknown, forged or malformed codes); never counted."
            )
    if failed:
        names = ", ".join(failed)
        notes.append(f"- 取り込みに失敗したパートナー: {names}（上の数字は前回までの取り込みのもの）。"
                     f" / Sync failed for: {names} (figures above are from earlier syncs).")
    if notes:
        lines += ["", *notes]
    return "\n".join(lines)
