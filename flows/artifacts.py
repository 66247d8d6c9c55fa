"""Counts artifacts, one layout for every flow: a `metric | count` table under a stable key, flags as
sentences in the description (never a count of 1), and a separate key for dry runs, so that a preview never
replaces the real run's figures in the UI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from junkan.mail.timing import closed_window_note
from junkan.runtime import runtime

DRY_RUN_SUFFIX = "-dry-run"

#: Keys of the counts dicts that are yes/no flags: shown as a sentence when set, not as a row.
FLAG_KEYS = frozenset({"outside_window", "fatal", "provider_unavailable", "dry_run"})


def artifact_key(key: str, dry_run: bool = False) -> str:
    return key + DRY_RUN_SUFFIX if dry_run else key


def count_rows(counts: Mapping[str, int] | Iterable[tuple[str, int]]) -> list[dict[str, object]]:
    """`metric | count` rows; flags are left out (see flag_notes)."""
    pairs = counts.items() if isinstance(counts, Mapping) else counts
    return [{"metric": label, "count": value} for label, value in pairs if label not in FLAG_KEYS]


def flag_notes(counts: Mapping[str, int], as_of: date | None = None) -> list[str]:
    # The window is judged by the real clock whatever as_of says, so the note names the next real opening.
    notes = []
    if counts.get("outside_window"):
        rt = runtime()
        notes.append(closed_window_note(rt.clock.now(), rt.settings.notice))
    if counts.get("fatal"):
        notes.append("送信サービスが認証情報を拒否したため送信を停止。APIキーを確認してください（未送信分は次回送信）")
    if counts.get("provider_unavailable"):
        notes.append("送信サービスが応答しないため途中で停止。未送信分は次回送信")
    if counts.get("dry_run"):
        notes.append("ドライラン: 何も送信せず、状態も変更していない")
    return notes


def _describe(description: str, notes: Iterable[str], dry_run: bool) -> str:
    head = description + (" (dry run)" if dry_run else "")
    lines = [f"- {note}" for note in notes]
    return "\n\n".join([head, "\n".join(lines)]) if lines else head


def publish_counts(key: str, counts: Mapping[str, int] | Iterable[tuple[str, int]], *, description: str,
                   notes: Iterable[str] = (), dry_run: bool = False) -> str:
    """Publish a counts table; returns the key it went under."""
    chosen = artifact_key(key, dry_run)
    create_table_artifact(key=chosen, table=count_rows(counts), description=_describe(description, notes,
                                                                                        dry_run))
    return chosen


def publish_markdown(key: str, markdown: str, *, description: str, dry_run: bool = False) -> str:
    chosen = artifact_key(key, dry_run)
    create_markdown_artifact(key=chosen, markdown=markdown, description=_describe(description, (), dry_run))
    return chosen
