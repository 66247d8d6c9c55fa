"""Counts artifacts, one layout for every flow: a `項目 | item | 件数` table under a stable key (each count
labelled Japanese first from junkan/count_labels.py, the machine keys stay in the flow's result), flags as
sentences in the description (never a count of 1: a FlowResult keeps them apart, flows/results.py), and a
separate key for dry runs, so that a preview never replaces the real run's figures in the UI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from junkan.count_labels import ja_en, shown
from junkan.mail.timing import closed_window_note
from junkan.runtime import runtime

DRY_RUN_SUFFIX = "-dry-run"

#: Said in a sending flow's own artifact when it was a dry run (`daily` says its dry run once, for all).
DRY_RUN_NOTE = "ドライラン: 何も送信せず、状態も変更していない"


def artifact_key(key: str, dry_run: bool = False) -> str:
    return key + DRY_RUN_SUFFIX if dry_run else key


#: The columns of a counts table: the Japanese label, the English one, the figure.
ITEM_JA, ITEM_EN, COUNT = "項目", "item", "件数"


def count_rows(counts: Mapping[str, int] | Iterable[tuple[str, int]],
               flow: str | None = None) -> list[dict[str, object]]:
    """One labelled row per count; `flow` names the flow each row belongs to (`daily`'s summary)."""
    pairs = counts.items() if isinstance(counts, Mapping) else counts
    rows: list[dict[str, object]] = []
    for key, value in pairs:
        ja, en = shown(key)
        if flow is not None:
            ja, en = f"{flow}：{ja}", f"{flow}: {en}"
        rows.append({ITEM_JA: ja, ITEM_EN: en, COUNT: value})
    return rows


def sending_notes(*, outside_window: bool, fatal: bool, as_of: date | None) -> list[str]:
    """What a sending flow says about its run: the closed window and when it opens, a refused key."""
    # The window is judged by the real clock whatever as_of says, so the note names the next real opening.
    notes = []
    if outside_window:
        rt = runtime()
        notes.append(closed_window_note(rt.clock.now(), rt.settings.notice))
    if fatal:
        notes.append("送信サービスが認証情報を拒否したため送信を停止。APIキーを確認してください（未送信分は次回送信）")
    return notes


def _describe(description: str, notes: Iterable[str], dry_run: bool) -> str:
    head = description + (ja_en("（ドライラン）", "(dry run)") if dry_run else "")
    lines = [f"- {note}" for note in notes]
    return "\n\n".join([head, "\n".join(lines)]) if lines else head


def publish_counts(key: str, counts: Mapping[str, int] | Iterable[tuple[str, int]], *, description: str,
                   notes: Iterable[str] = (), dry_run: bool = False) -> str:
    """Publish a counts table; returns the key it went under."""
    return publish_rows(key, count_rows(counts), description=description, notes=notes, dry_run=dry_run)


def publish_rows(key: str, rows: list[dict[str, object]], *, description: str, notes: Iterable[str] = (),
                 dry_run: bool = False) -> str:
    """Publish rows made by `count_rows`; returns the key they went under."""
    chosen = artifact_key(key, dry_run)
    create_table_artifact(key=chosen, table=rows, description=_describe(description, notes, dry_run))
    return chosen


def publish_markdown(key: str, markdown: str, *, description: str, dry_run: bool = False) -> str:
    chosen = artifact_key(key, dry_run)
    create_markdown_artifact(key=chosen, markdown=markdown, description=_describe(description, (), dry_run))
    return chosen
