"""Your own CSV on the explorer: the uploader, a preview of what will be used, target and task; kept per session."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from wdlab.codegen.data import csv_source
from wdlab.data.reading import MAX_COLUMNS, MAX_LEVELS, CsvError, upload_cap
from wdlab.data.tables import AUTO_CLASSES, MIN_ROWS, CsvSummary, inspect_csv, load_csv
from wdlab.registry.datasets import DATASETS, Data
from wdlab.run.upload_store import UploadsFull
from wdlab.settings.config import Limits
from wdlab.ui.state import owner, session_id, shown_index, uploads
from wdlab.ui.text import note

KEY = "upload_"          # widget keys: upload_file, upload_target, upload_task
TASKS = {"auto": "auto", "regression": "regression", "classification": "classification"}
LINK_NOTICE = ("This link carries the sweep's settings but not its table: an uploaded table stays in the session of "
               "the visitor who uploaded it. Upload a CSV below (the same one to reproduce the run), check its "
               "target and press **Train**.")
SHARE_NOTE = ("The address bar links to these settings only, not to your table: whoever opens the link is asked to "
              "upload a table of their own.")
HELP = (f"UTF-8 text, one row per example, a header row first; columns separated by commas, semicolons, tabs or |. "
        f"Numeric columns are used as they are, text columns with at most {MAX_LEVELS} values one-hot; at least "
        f"{MIN_ROWS} complete rows and at most {MAX_COLUMNS} columns.")


@dataclass(frozen=True)
class Upload:
    """The visitor's table, loaded for training."""

    name: str        # the file's name as uploaded
    target: str
    data: Data
    source: Any = None  # how it was read and encoded (codegen_data.CsvSource): the "show me the code" script


def upload_section(limits: Limits, val_fraction: float | None) -> Upload | None:
    """Draw the uploader and, for a usable file, its preview, target and task; return the table or None."""
    file = st.file_uploader("CSV file", type=["csv", "txt"], key=KEY + "file", help=HELP,
                            max_upload_size=limits.max_upload_mb)
    if file is None:
        forget()  # the visitor removed the file: forget the parsed table too
        st.caption(f"{HELP} At most {upload_cap(limits)}. The table is kept only in this browser session "
                   "for as long as it is open, and only you see its results.")
        return None
    try:  # this visitor's table lives in the server's upload store, released when the tab has gone
        store = uploads().state(owner(), session_id(), file.file_id)
    except UploadsFull as e:
        _error(file.name, e, "cannot be held now")
        return None
    if "summary" not in store:
        store["summary"] = _try(lambda: inspect_csv(file.getvalue(), limits))
    summary = store["summary"]
    if isinstance(summary, CsvError):
        _error(file.name, summary)
        return None
    if store.get("fresh"):  # a new file: preselect its suggested target, guess the task again
        st.session_state[KEY + "target"] = summary.suggested_target
        st.session_state[KEY + "task"] = "auto"
        store["fresh"] = False
    c1, c2 = st.columns([1, 1])
    target = c1.selectbox("Target column (what the models predict)", summary.names,
                          shown_index(summary.names, KEY + "target"), key=KEY + "target",
                          help="--target. Every other usable column is an input feature.")
    task = c2.radio("Task", tuple(TASKS), shown_index(tuple(TASKS), KEY + "task"), key=KEY + "task",
                    horizontal=True, format_func=TASKS.get,
                    help=f"--task. auto: classification for text labels or at most {AUTO_CLASSES} distinct "
                         "numbers, else regression.")
    vf = DATASETS["csv"].default_val_fraction if val_fraction is None else val_fraction
    request = (target, task, vf)
    if store.get("request") != request:  # keep only the latest loaded table: bounded memory per visitor
        store["request"], store["loaded"] = request, _try(
            lambda: load_csv(file.getvalue(), target, None if task == "auto" else task, val_fraction=vf,
                             limits=limits))
        uploads().sized(owner(), file.size + _nbytes(store["loaded"]))
    loaded = store["loaded"]
    _preview(summary, target, loaded if isinstance(loaded, Data) else None)
    if isinstance(loaded, CsvError):
        _error(file.name, loaded, "cannot be trained on with these choices")
        return None
    note("success", describe(loaded, target))
    if store.get("source_for") != request:
        store["source_for"], store["source"] = request, _try(
            lambda: csv_source(file.getvalue(), file.name, target, task, vf, limits, loaded))
    source = store["source"]
    return Upload(file.name, target, loaded, None if isinstance(source, CsvError) else source)


def describe(data: Data, target: str) -> str:
    """One line: what the models will learn from the table."""
    what = f"{data.n_classes} classes" if data.task == "classification" else "a number"
    return (f"{data.task.capitalize()} of {target!r} ({what}) from {data.in_dim} feature"
            f"{'s' if data.in_dim != 1 else ''}: {len(data.X_train)} training and {len(data.X_val)} validation rows.")


def link_notice() -> None:
    st.info(LINK_NOTICE, icon=":material/link:")


def share_note() -> None:
    st.caption(f":material/link: {SHARE_NOTE}")


def columns_frame(summary: CsvSummary, target: str) -> pd.DataFrame:
    """Per column: its kind, missing and distinct counts, and how it is used with this target."""
    def use(c):
        if c.name == target:
            return "target: what is predicted"
        return {"feature": "feature", "one-hot": f"one-hot: {c.n_distinct} 0/1 features"}.get(c.role,
                                                                                            f"skipped: {c.why}")
    # the target first: a long table would otherwise hide it below the rows in view
    cols = sorted(summary.columns, key=lambda c: c.name != target)
    return pd.DataFrame({"column": [c.name for c in cols], "kind": [c.kind for c in cols],
                         "missing": [c.n_missing for c in cols],
                         "distinct values": [c.n_distinct for c in cols],
                         "use": [use(c) for c in cols]})


def _preview(summary: CsvSummary, target: str, data: Data | None) -> None:
    n_cols = len(summary.columns)
    with st.expander(f"{summary.n_rows:,} rows × {n_cols} columns: what will be used, and the first rows",
                     expanded=True):
        used, first = st.tabs(["What will be used", "First rows"])
        used.dataframe(columns_frame(summary, target), hide_index=True, key=KEY + "columns",
                       height=min(318, 38 + 35 * n_cols))
        notes = data.notes if data is not None else summary.notes
        if notes:
            with used:  # they quote column names and class values: plain text
                note("info", "\n".join(f"• {n}" for n in notes))
        first.dataframe(summary.preview, hide_index=True, key=KEY + "rows",
                        height=min(388, 38 + 35 * len(summary.preview)))


def _nbytes(loaded) -> int:
    if not isinstance(loaded, Data):
        return 0
    return sum(t.element_size() * t.nelement() for t in (loaded.X_train, loaded.y_train, loaded.X_val, loaded.y_val))


def forget() -> None:
    """Drop this visitor's parsed table (they removed the file or chose another dataset)."""
    uploads().drop(owner())


def _try(load):
    try:
        return load()
    except CsvError as e:
        return e
    except Exception as e:  # a reader bug must cost this file, never the page
        return CsvError("unreadable", f"the file could not be read ({type(e).__name__}); save it as UTF-8 CSV "
                                      "with a header row and try again")


def _error(name: str, e: CsvError, what: str = "cannot be used") -> None:
    note("error", f"{name} {what}: {e}")
