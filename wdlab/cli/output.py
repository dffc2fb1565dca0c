"""Where `wdlab run` puts its result: --out (checked before training, replaced only by a complete file) or stdout;
when neither can take it (a full disk, /dev/full, a closed pipe), a recovery file elsewhere, named on stderr: a
fault of the output never costs the training."""
from __future__ import annotations

import os
import sys
import tempfile
import time

from wdlab.settings.config import ConfigError


PARQUET = (".parquet", ".pq")


def is_parquet(path: str | None) -> bool:
    return bool(path) and path.lower().endswith(PARQUET)


def check_out(path: str) -> None:
    """Refuse an --out that could not be written, before any training: a folder, a missing folder, or one
    where no file can be created (tried for real: permission bits say nothing to root); a .parquet name without
    pyarrow."""
    if is_parquet(path):
        try:
            import pyarrow  # noqa: F401  deferred: pyarrow, only to write Parquet
        except ImportError:
            raise ConfigError(f"--out {path}: writing Parquet needs pyarrow (pip install pyarrow); or give a "
                              ".csv name") from None
    if os.path.isdir(path) or path.endswith(os.sep):
        raise ConfigError(f"--out {path}: that is a folder; give a file name, e.g. {os.path.join(path, 'sweep.csv')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ConfigError(f"--out {path}: its folder does not exist")
    if os.path.exists(path) and not os.path.isfile(path):
        raise ConfigError(f"--out {path}: not a regular file")
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as e:
        raise ConfigError(f"--out {path}: cannot create a file in {folder}: {e.strerror}") from None


def _mode(path: str) -> int:
    """The mode a written file gets: an existing regular file's own, else what the umask leaves of 0o666 (a
    temporary file is created 0o600 whatever the umask)."""
    if os.path.isfile(path) and not os.path.islink(path):
        return os.stat(path).st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def replace_file(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in its folder, renamed over it once complete and on disk:
    an earlier file stays whole until then, and a failed write leaves nothing behind (the OSError is raised)."""
    mode = _mode(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())   # a full disk may only say so here
            os.fchmod(f.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _to_stdout(data: bytes) -> None:
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError):  # a stdout that is no file (a test's capture): it takes text
        sys.stdout.write(data.decode())
        sys.stdout.flush()
        return
    try:
        sys.stdout.flush()
        view = memoryview(data)
        while view:  # os.write, not sys.stdout.buffer.write: that returned a short count (the reader gone) silently
            view = view[os.write(fd, view):]
    except OSError:
        # what stdout could not take is not flushed again at exit (a second error, a traceback): it goes nowhere
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        raise


def recovery_folders() -> list[str]:
    """Where a result goes that --out or stdout could not take: the temporary folder, the home folder, here."""
    return list(dict.fromkeys(os.path.abspath(p) for p in (tempfile.gettempdir(), os.path.expanduser("~"), ".")))


def recover(data: bytes, suffix: str = ".csv") -> tuple[str | None, list[str]]:
    """Write `data` to a new recovery file in the first folder that takes it: (its path or None, what failed)."""
    name = f"wdlab-recovered-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}{suffix}"
    failed = []
    for folder in recovery_folders():
        path = os.path.join(folder, name)
        try:
            replace_file(path, data)
            return path, failed
        except OSError as e:
            failed.append(f"{folder}: {e.strerror}")
    return None, failed


def deliver(frame, out: str | None) -> tuple[str, str | None]:
    """Write the frame as CSV (Parquet for a .parquet name) to `out` (stdout when None): (where it is now, the
    error line when that is not where it was asked to go)."""
    parquet = is_parquet(out)
    data = frame.to_parquet(None, index=False) if parquet else frame.to_csv(index=False).encode()
    asked = f"--out {out}" if out else "to stdout"
    try:
        if out is None:
            _to_stdout(data)
        else:
            replace_file(out, data)
        return out or "stdout", None
    except OSError as e:
        why = e.strerror or type(e).__name__
    path, failed = recover(data, ".parquet" if parquet else ".csv")
    if path is None:
        return "nowhere", (f"cannot write {asked}: {why}; nor could the result be kept elsewhere "
                           f"({'; '.join(failed)})")
    return path, f"cannot write {asked}: {why}; the whole result is in {path}"
