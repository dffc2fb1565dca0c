"""Reading a table a visitor brings: bytes -> parsed text columns (encoding, delimiter, size and shape checked),
or a CsvError that says in one line what is wrong and what to do."""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from wdlab.registry.dataset_spec import not_a_file
from wdlab.settings.config import DEFAULT_LIMITS, Limits

MB = 1_000_000         # what the messages call a megabyte (Streamlit's browser-side MB)
MAX_COLUMNS = 500      # columns read from one file
MAX_ROWS = 100_000     # data rows read from one file
MAX_LEVELS = 10        # a text column with at most this many distinct values is one-hot encoded
MAX_MISSING = 0.5      # a feature missing in more than this share of rows is skipped rather than cost rows
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "vertical bars"}
_MAGIC = {b"PK\x03\x04": "a zip archive or an Excel .xlsx workbook", b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
          b"%PDF": "a PDF document", b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image",
          b"\x1f\x8b": "a gzip archive", b"SQLite format": "an SQLite database"}
_EXPORT = "export the table as CSV text (comma- or semicolon-separated, UTF-8) and try again"


class CsvError(ValueError):
    """The table cannot be used. `kind` names the problem for code; the message says what to do, in one line."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # empty, binary, not_utf8, too_large, target_missing, ... (see tests/test_csvdata.py)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    kind: str          # numeric | categorical (few text values) | text | empty
    n_missing: int
    n_distinct: int
    role: str          # feature | one-hot | skipped   (as a feature column, i.e. when it is not the target)
    why: str = ""      # why it is skipped, or how it is encoded


@dataclass
class Table:
    df: pd.DataFrame                               # text cells, stripped; missing = NaN
    sep: str
    numeric: dict[str, pd.Series] = field(default_factory=dict)  # columns whose every value is a number
    notes: list[str] = field(default_factory=list)
    twins: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> every column of its header name
    encoding: str = "utf-8-sig"                    # how the bytes were read (decode)


def read_file(path: str, limits: Limits = DEFAULT_LIMITS) -> bytes:
    """The file's bytes, refusing one over the size cap before reading it (and reading at most cap + 1 bytes)."""
    cap = limits.max_upload_bytes
    try:
        problem = not_a_file(path)
        if problem:
            raise CsvError("unreadable", problem)
        size = os.stat(path).st_size
        if size > cap:
            raise too_large(size, limits)
        with open(path, "rb") as f:
            raw = f.read(cap + 1)  # a device or a growing file may report a smaller size than it yields
    except FileNotFoundError:
        raise CsvError("not_found", f"{path}: no such file; check the path") from None
    except OSError as e:
        raise CsvError("unreadable", f"cannot read {path}: {e.strerror}; check the path and its permissions") from None
    if len(raw) > cap:
        raise too_large(len(raw), limits)
    return raw


def parse(raw: bytes, limits: Limits) -> Table:
    text, encoding = decode(raw, limits)
    sep = sniff(text)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # header=None: a row longer than the first is an error naming its line, never a silent index column
            df = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, skipinitialspace=True,
                             nrows=MAX_ROWS + 2, engine="c")
    except pd.errors.EmptyDataError:
        raise CsvError("empty", "the file has no data; choose a CSV file with a header row and data rows") from None
    except (pd.errors.ParserError, ValueError, csv.Error) as e:
        raise malformed(str(e), sep) from None
    t = Table(df, sep, encoding=encoding)
    if encoding != "utf-8-sig":
        t.notes.append(f"read as {ENCODINGS[encoding]} text: the file is not UTF-8 (Excel's plain \"CSV\" "
                       "writes this); check accented letters in the preview")
    if sep != ",":
        t.notes.append(f"columns are separated by {DELIMITERS[sep]}")
    names, seen, groups = [], set(), {}
    for i, v in enumerate(df.iloc[0]):
        base = str(v).strip() if isinstance(v, str) and v.strip() else f"column{i + 1}"
        name = base
        while name in seen:  # two columns must not share a name: the target is chosen by name
            name += "_"
        seen.add(name)
        names.append(name)
        groups.setdefault(base, []).append((i, v, name))
    for base, cols in groups.items():
        if len(cols) > 1:  # " y " and "y " are both "y": say so, and never let one be the target
            for _, _, name in cols:
                t.twins[name] = tuple(n for _, _, n in cols)
            t.notes.append(f"{len(cols)} columns are named {quoted(base)} once spaces are trimmed (columns "
                           f"{', '.join(str(i + 1) for i, _, _ in cols)}, headers "
                           f"{', '.join(quoted(str(v)) for _, v, _ in cols)}): read as "
                           f"{', '.join(quoted(n) for _, _, n in cols)}; none of them can be the target")
    if pd.to_numeric(pd.Series(names), errors="coerce").notna().all():
        t.notes.append("the first row is read as column names; if it is data, add a header row")
    df = df.iloc[1:].reset_index(drop=True)
    df.columns = names
    df = df.apply(lambda s: s.str.strip()).replace("", np.nan)
    if df.shape[1] < 2:
        raise CsvError("one_column", "only one column was found (separators tried: comma, semicolon, tab, |); a "
                                     "table needs a target and at least one feature column — check the separator")
    if len(df) == 0:
        raise CsvError("header_only", "the file has a header but no data rows; add rows below the header")
    if len(df) > MAX_ROWS:
        raise CsvError("too_many_rows", f"the file has more than {MAX_ROWS:,} data rows; keep at most {MAX_ROWS:,} "
                                        "(a random sample works)")
    if not df.notna().any().any():
        raise CsvError("all_missing", "every value in the file is missing (empty or NA); fill in the data")
    t.df = df
    comma_decimal = []
    for c in df.columns:
        s = df[c]
        num = pd.to_numeric(s, errors="coerce")
        if sep == ";" and num.notna().sum() < s.notna().sum() and s.dropna().str.fullmatch(r"[+-]?\d+,\d*").all():
            num = pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce")
            comma_decimal.append(c)
        if s.notna().any() and num.notna().sum() == s.notna().sum():
            t.numeric[c] = num
    if comma_decimal:
        t.notes.append("decimal commas read as decimal points in: " + few([quoted(c) for c in comma_decimal]))
    return t


# what a table that is not UTF-8 is read as, tried in order: Excel's "CSV" on Windows writes cp1252; latin-1
# reads any byte (cp1252 leaves five undefined)
ENCODINGS = {"cp1252": "Windows-1252 (Western European)", "latin-1": "Latin-1 (ISO-8859-1)"}


def decode(raw: bytes, limits: Limits) -> tuple[str, str]:
    """The file's text and the encoding it was read with: UTF-8 (a BOM allowed), else ENCODINGS in turn."""
    if not isinstance(raw, (bytes, bytearray)):
        raise CsvError("bad_option", f"expected the file's bytes, got {type(raw).__name__}")
    if len(raw) > limits.max_upload_bytes:
        raise too_large(len(raw), limits)
    if not raw.strip():
        raise CsvError("empty", "the file is empty; choose a CSV file with a header row and data rows")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise CsvError("not_utf8", "the file is UTF-16 text; save it as UTF-8 CSV (Excel: Save As → CSV UTF-8)")
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise CsvError("binary", f"this is {what}, not a CSV text file; {_EXPORT}")
    head = raw[:65536]
    controls = sum(head.count(bytes([b])) for b in (*range(0, 9), *range(14, 32)))
    if b"\x00" in raw or controls > len(head) // 100:
        raise CsvError("binary", f"the file is binary data, not CSV text; {_EXPORT}")
    for encoding in ("utf-8-sig", *ENCODINGS):
        try:
            return bytes(raw).decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")


def sniff(text: str) -> str:
    """The separator whose field count is most consistent across the first rows (ties: the most fields)."""
    header = next((line for line in io.StringIO(text) if line.strip()), "")  # a loop, not a regex: linear time
    header = re.sub(r'"[^"]*"', "", header)  # separators inside quotes do not count
    counts = {d: header.count(d) + 1 for d in DELIMITERS}
    if max(counts.values()) > MAX_COLUMNS:
        raise CsvError("too_many_columns", f"the header has {max(counts.values()):,} columns; at most {MAX_COLUMNS} "
                                           "are read — keep fewer columns")
    sample = text[:65536]
    sample = sample[:sample.rfind("\n") + 1] if len(text) > len(sample) else sample
    best, best_score = ",", (-1.0, 0)
    for d, count in counts.items():
        if count < 2:
            continue
        try:
            rows = [r for r in csv.reader(io.StringIO(sample), delimiter=d) if any(c.strip() for c in r)][:50]
        except csv.Error:
            continue
        score = (sum(len(r) == len(rows[0]) for r in rows) / len(rows), count) if rows else (0.0, count)
        if score > best_score:
            best, best_score = d, score
    return best


def describe(t: Table, c: str) -> ColumnInfo:
    s, num = t.df[c], t.numeric.get(c)
    n_missing, n, distinct = int(s.isna().sum()), len(s), int((s if num is None else num).nunique())
    kind = "empty" if not distinct else "numeric" if num is not None else \
        "categorical" if distinct <= MAX_LEVELS else "text"
    why = next((w for bad, w in ((kind == "empty", "no values"),
                                 (n_missing > MAX_MISSING * n, f"missing in {n_missing / n:.0%} of rows"),
                                 (distinct == 1, "constant"),
                                 (kind == "text", f"text with {distinct} distinct values")) if bad), "")
    role = "skipped" if why else "feature" if kind == "numeric" else "one-hot"
    return ColumnInfo(c, kind, n_missing, distinct, role, why)


def malformed(message: str, sep: str) -> CsvError:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return CsvError("malformed", f"line {m[2]} has {m[3]} fields but the header has {m[1]} (separated by "
                                     f"{DELIMITERS[sep]}); quote fields that contain the separator, or fix that line")
    m = re.search(r"EOF inside string starting at row (\d+)", message)
    if m:
        return CsvError("malformed", f"a quote (\") opened on line {int(m[1]) + 1} is never closed; close it or "
                                     "remove the stray quote")
    return CsvError("malformed", f"the file cannot be read as CSV ({' '.join(message.split())[:120]}); {_EXPORT}")


def too_large(size: int, limits: Limits) -> CsvError:
    return CsvError("too_large", f"the file is {size:,} bytes; at most {upload_cap(limits)} are accepted — keep fewer "
                                 "rows or columns")


def upload_cap(limits: Limits) -> str:
    """The upload limit as every message states it: exact bytes, and megabytes of 10⁶ bytes."""
    return f"{limits.max_upload_bytes:,} bytes ({limits.max_upload_bytes / MB:g} MB)"


def quoted(name: str) -> str:
    return repr(name if len(name) <= 40 else name[:40] + "…")


def few(items: list[str], k: int = 8) -> str:
    return ", ".join(items[:k]) + (f" and {len(items) - k} more" if len(items) > k else "")
