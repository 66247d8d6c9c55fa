"""What an operator reads for a published count: one Japanese and one English label per key.

Flows return and store their counts under machine keys (`sent`, `excluded_cooldown`): scripts, stored run
stats and `junkan run` read those. The counts artifacts in the Prefect UI are read by HR operators in
Japan, so every row shows a label from this one map instead, Japanese first. A key made of two parts
(`renewals_sent`, `bounces_added`, `rows_candidate`) is labelled from its parts by a `Family`.

`label()` answers None for a key no one labelled, and the artifacts then show the key itself;
tests/unit/test_count_labels.py and the flow tests fail on such a row, so a new count comes with its label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple


class Label(NamedTuple):
    ja: str
    en: str


def ja_en(ja: str, en: str) -> str:
    """A text shown to operators: Japanese first, then English."""
    return f"{ja} / {en}"


#: Outcomes of sending through the outbox, shared by notices, consent renewals and re-contact mails.
SENDING: dict[str, Label] = {
    "due": Label("期限到来", "due"),
    "enqueued": Label("キューに追加", "enqueued"),
    "claimed": Label("送信に着手", "claimed"),
    "sent": Label("送信済み", "sent"),
    "suppressed": Label("配信停止のため送らず", "suppressed"),
    "failed": Label("失敗", "failed"),
    "unknown": Label("結果不明", "outcome unknown"),
    "cancelled": Label("取り消し", "cancelled"),
    "retry": Label("再試行待ち", "waiting to retry"),
    "held": Label("保留（APIキーの修正待ち）", "held (waiting for a valid key)"),
    "template_error": Label("テンプレートのエラー", "template errors"),
    "provider_unavailable": Label("送信サービスに接続できず", "provider unavailable"),
    "no_consent": Label("同意撤回のため停止", "stopped: consent withdrawn"),
    "partner_dropped": Label("パートナー案内を除いて送信", "sent without the partner section"),
    "previewed": Label("プレビュー（送信なし）", "previewed (not sent)"),
    "hired_since": Label("その後に採用されたため停止", "stopped: hired since"),
    "applied_since": Label("その後に応募があったため停止", "stopped: applied since"),
    "not_approved": Label("承認されず取り消し", "not approved, cancelled"),
    "no_address": Label("宛先なし", "no address"),
    # Flags: said in sentences, never rows; labelled for `daily`'s notes and for completeness.
    "outside_window": Label("送信時間帯の外", "outside the sending window"),
    "fatal": Label("送信サービスが認証情報を拒否", "credentials refused by the provider"),
    "dry_run": Label("ドライラン", "dry run"),
}

#: Why a pool member was not matched (junkan.pool.exclusions).
EXCLUSION_RULES: dict[str, Label] = {
    "cooldown": Label("クールダウン期間中", "in the cool-down"),
    "recently_contacted": Label("最近再コンタクト済み", "contacted recently"),
    "opted_out": Label("配信停止・同意撤回", "opted out or consent withdrawn"),
    "hired": Label("入社済み", "hired"),
    "suppressed": Label("配信停止リスト", "on a suppression list"),
    "in_process": Label("選考中", "in process"),
    "stated_never": Label("ご本人が今後の案内を希望しない", "asked for no more offers"),
    "already_applied": Label("すでに応募済み", "already applied"),
}

#: Retention rules (junkan.privacy.rules.RULES).
RETENTION_RULES: dict[str, Label] = {
    "rejected_days": Label("保存期間を過ぎた不採用・辞退者", "rejected or withdrawn past the retention days"),
    "pool_expired": Label("同意が切れたタレントプールの人", "pool members whose consent lapsed"),
}

#: Tables holding someone's data (junkan.privacy.tables.PERSON_TABLES), as retention counts their rows.
TABLES: dict[str, Label] = {
    "candidate": Label("候補者", "candidates"),
    "application": Label("応募", "applications"),
    "consent": Label("同意", "consents"),
    "decision_log": Label("選考結果の履歴", "decision log"),
    "quarantine": Label("隔離したレコード", "quarantined records"),
    "message": Label("メール", "messages"),
    "email_event": Label("メールのイベント", "e-mail events"),
    "click": Label("クリック", "clicks"),
    "partner_referral": Label("パートナー紹介", "partner referrals"),
    "pool_member": Label("タレントプール", "pool members"),
    "pool_tag": Label("プールのタグ", "pool tags"),
    "pool_score": Label("ポテンシャルスコア", "potential scores"),
    "pool_match": Label("マッチ", "matches"),
    "pool_reapplication": Label("再応募の記録", "re-applications"),
    "ats_writeback": Label("ATS への書き戻し", "ATS write-backs"),
    "candidate_preference": Label("ご本人の希望", "stated preferences"),
    "preference_visit": Label("希望ページの訪問", "preference page visits"),
    "data_copy_request": Label("データ開示の請求", "data copy requests"),
    "suppression": Label("配信停止リスト", "suppressions"),
    "erasure_tombstone": Label("消去の記録", "erasure tombstones"),
}

#: SendGrid's suppression lists (junkan.engagement.suppressions).
SUPPRESSION_LISTS: dict[str, Label] = {
    "bounces": Label("不達", "bounces"),
    "blocks": Label("ブロック", "blocks"),
    "spam_reports": Label("迷惑メール報告", "spam reports"),
    "invalid_emails": Label("無効なアドレス", "invalid e-mails"),
    "unsubscribes": Label("配信停止", "unsubscribes"),
    "asm_group": Label("配信停止グループ", "unsubscribe group"),
}

#: What re-contact writes into the ATS (junkan.pool.writeback).
WRITEBACK_ACTIONS: dict[str, Label] = {
    "tag": Label("ATS へのタグ", "ATS tags"),
    "note": Label("ATS へのメモ", "ATS notes"),
    "prospect": Label("ATS への候補者登録", "ATS prospects"),
    "reapplied_note": Label("ATS への再応募メモ", "ATS re-application notes"),
    "hired_note": Label("ATS への入社メモ", "ATS hire notes"),
}

WRITEBACK_OUTCOMES: dict[str, Label] = {
    "written": Label("書き込み済み", "written"),
    "already_there": Label("既にあり", "already there"),
    "failed": Label("失敗", "failed"),
    "would_write": Label("書き込み予定（試行）", "would write (dry run)"),
}

#: Keys labelled as they are.
LABELS: dict[str, Label] = {
    **SENDING,
    # ingest-decisions
    "new": Label("新規", "new"),
    "updated": Label("更新", "updated"),
    "unchanged": Label("変更なし", "unchanged"),
    "rejected": Label("不採用", "rejected"),
    "hired": Label("採用", "hired"),
    "withdrawn": Label("辞退", "withdrawn"),
    "reapplied": Label("再応募", "re-applied"),
    "unrejected": Label("不採用の取り消し", "un-rejected"),
    "quarantined": Label("隔離したレコード", "quarantined"),
    "reference_quarantined": Label("隔離した求人・募集枠・理由", "quarantined jobs, openings and reasons"),
    "notices_cancelled": Label("取り消した通知", "notices cancelled"),
    "erased": Label("消去済みの人（読み飛ばし）", "erased (skipped)"),
    # enqueueing
    "backlog": Label("未処理の残り", "backlog"),
    "revived": Label("再開した通知", "revived"),
    "people": Label("人数", "people"),
    "already_enqueued": Label("キューに追加済み", "already enqueued"),
    "held_out": Label("比較のため送らない（ホールドアウト）", "held out (not mailed)"),
    "no_recontact_consent": Label("再コンタクトの同意なし（送らず）",
                                  "no re-contact consent (not mailed)"),
    "no_longer_eligible": Label("対象外になった", "no longer eligible"),
    "expiring": Label("同意の期限が近い人", "consents expiring"),
    "already_asked": Label("案内済み", "already asked"),
    "opted_out": Label("配信停止済み", "opted out"),
    # the report mail (roi-report) and the webhook's stored events
    "recipients": Label("宛先", "recipients"),
    "already": Label("送信済み（前回まで）", "already sent"),
    "stopped": Label("停止", "stopped"),
    "pending": Label("送信待ち", "pending"),
    "received": Label("受信したイベント", "events received"),
    "stored": Label("保存したイベント", "events stored"),
    "duplicates": Label("重複", "duplicates"),
    "invalid": Label("不正なイベント", "invalid events"),
    "unmatched": Label("メールに紐付かないイベント", "unmatched events"),
    "state_changes": Label("状態の変更", "state changes"),
    "consents_withdrawn": Label("撤回された同意", "consents withdrawn"),
    # sync-email-events
    "suppressions_added": Label("配信停止リストへの追加（合計）", "suppressions added (total)"),
    "events_attached": Label("メールに紐付けたイベント", "events attached"),
    "messages_updated": Label("状態を更新したメール", "messages updated"),
    "unknown_resolved": Label("結果不明から確定", "unknown resolved"),
    "unknown_remaining": Label("結果不明のまま", "unknown remaining"),
    "webhook_events_24h": Label("Webhook イベント（24時間）", "webhook events (24 h)"),
    "unknown_resent": Label("結果不明を送信待ちに戻した", "unknown back to pending"),
    "unknown_waiting_for_operator": Label("結果不明：担当者の確認待ち", "unknown, waiting for an operator"),
    "unknown_in_window": Label("結果不明：イベント待ち", "unknown, waiting for events"),
    # sync-partner-stats
    "partners": Label("パートナー数", "partners"),
    "fetched": Label("取得した行", "rows fetched"),
    "new_referrals": Label("新しい紹介登録", "new referrals"),
    "already_known": Label("記録済みの登録", "already known"),
    "new_suspicious": Label("新しい不審な登録", "new suspicious registrations"),
    "signature_mismatch": Label("署名の不一致", "signature mismatches"),
    "credits_earned": Label("獲得クレジット", "credits earned"),
    "credits_expired": Label("失効クレジット", "credits expired"),
    "balance": Label("クレジット残高", "credit balance"),
    "value_yen": Label("クレジットの価値（円）", "credit value (yen)"),
    # recontact
    "reapplications_recorded": Label("記録した再応募", "re-applications recorded"),
    "new_openings": Label("新しい募集枠", "new openings"),
    "open_openings": Label("募集中の募集枠", "open openings"),
    "pool": Label("タレントプールの人数", "pool members"),
    "eligible_pool": Label("マッチ対象のプール", "eligible pool"),
    "matches": Label("マッチ", "matches"),
    "matched_people": Label("マッチした人", "people matched"),
    "held_out_people": Label("ホールドアウトの人", "people held out"),
    "strong": Label("強い一致", "strong matches"),
    "shortlists": Label("候補リスト（募集枠）", "shortlists (openings)"),
    "approved_matches": Label("承認されたマッチ", "matches approved"),
    "deselected_matches": Label("外されたマッチ", "matches deselected"),
    "approval_timed_out": Label("承認の期限切れ", "approval timed out"),
    "writeback_planned": Label("ATS への書き戻し予定", "ATS write-backs planned"),
    "writeback_not_configured": Label("ATS への書き戻し未設定", "ATS write-back not configured"),
    # retention
    "suppressions_hashed": Label("ハッシュ化した配信停止アドレス", "suppressed addresses hashed"),
}


@dataclass(frozen=True, slots=True)
class Family:
    """Keys `<head>_<tail>`, labelled 「head：tail」."""

    heads: Mapping[str, Label]
    tails: Mapping[str, Label]

    def label(self, key: str) -> Label | None:
        for head, first in self.heads.items():
            rest = key.removeprefix(head + "_")
            if rest != key and rest in self.tails:
                second = self.tails[rest]
                return Label(f"{first.ja}：{second.ja}", f"{first.en}: {second.en}")
        return None


FAMILIES: tuple[Family, ...] = (
    Family({"renewals": Label("同意更新メール", "consent renewals")}, SENDING),
    Family({"mails": Label("再コンタクトメール", "re-contact mails")}, SENDING),
    Family({"excluded": Label("マッチ対象外", "excluded")}, EXCLUSION_RULES),
    Family({"anonymised": Label("匿名化", "anonymised")}, RETENTION_RULES),
    Family({"rows": Label("消去した行", "rows scrubbed")}, TABLES),
    Family(SUPPRESSION_LISTS, {"fetched": Label("取得", "fetched"), "added": Label("追加", "added")}),
    Family(WRITEBACK_ACTIONS, WRITEBACK_OUTCOMES),
)


def label(key: str) -> Label | None:
    """The label of count `key`, or None when no one labelled it."""
    if key in LABELS:
        return LABELS[key]
    return next((found for family in FAMILIES if (found := family.label(key)) is not None), None)


def shown(key: str) -> Label:
    """What a reader sees for `key`: its label, or the key itself where none was written."""
    return label(key) or Label(key, key)
