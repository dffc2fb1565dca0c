"""Which limits a run is held to. In demo mode (WDLAB_DEMO, or the Community Cloud host) every surface keeps the
limits it always had: the app the demo's (DEMO_LIMITS), the CLI the full ones (DEFAULT_LIMITS). Off the demo the
CLI refuses only what would harm the machine: a sweep whose estimated peak memory, trained in the smallest chunks,
would not fit in the memory this machine has available. Everything else trains, in chunks planned within that
memory. A user may set limits of their own (a TOML file and NAME=VALUE pairs: `wdlab run --limits/--limit`). The local
app off the demo is held to the machine's limits too (its sweeps training at once share the memory), with the
server's own bounds (sweeps at once, queue, results kept, sessions) as before and WDLAB_LIMITS=FILE.toml on top."""
from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from typing import Iterable, Mapping

from wdlab.errors import ConfigError
from wdlab.settings.config import DEFAULT_LIMITS, DEMO_LIMITS, Limits, concurrent_jobs, demo_mode

MEMORY_SHARE = 0.8      # off the demo, a run may plan its peak up to this share of the memory available now
FALLBACK_MB = 4000.0    # the available memory assumed where /proc/meminfo and sysconf say nothing
# what stays capped off the demo unless the user lifts it: reading a table protects the same memory the estimate
# does, but before the table's size is known
KEPT = ("max_upload_bytes", "max_table_cells")
# what the local app keeps of the full limits off the demo: the server's own shape, not a sweep's size
SERVER = ("max_concurrent_jobs", "max_queued_jobs", "max_results", "max_result_mb", "max_sessions")


def available_mb(meminfo: str = "/proc/meminfo") -> float:
    """Memory this machine can give a new run now (MemAvailable), in MB; else its physical memory."""
    try:
        with open(meminfo) as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (ValueError, OSError, AttributeError):
        return FALLBACK_MB


def machine_limits(parallel: int = 1, available: float | None = None) -> Limits:
    """Off the demo: no cap on counts, epochs, widths, steps or time; each of `parallel` sweeps training at once
    (worker processes, Ray tasks) may plan its peak within its share of MEMORY_SHARE of the available memory."""
    mb = (available_mb() if available is None else available) * MEMORY_SHARE / max(1, parallel)
    open_ = {f.name: math.inf for f in dataclasses.fields(Limits) if f.name.startswith("max_") and f.name not in KEPT}
    return dataclasses.replace(DEFAULT_LIMITS, **{**open_, "max_sweep_mb": mb, "max_memory_mb": mb}, machine=True)


def parse_limits(pairs: Iterable[str] = (), path: str | None = None, flag: str = "--limits") -> dict[str, float]:
    """The user's own limits: a TOML file of `name = number` (Limits' field names) and NAME=VALUE pairs (later
    ones win); ConfigError naming the allowed names for anything else."""
    values: dict[str, object] = {}
    if path:
        try:
            with open(path, "rb") as f:
                values.update(tomllib.load(f))
        except OSError as e:
            raise ConfigError(f"{flag} {path}: {e.strerror}", "limits") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{flag} {path}: not TOML ({e})", "limits") from None
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--limit takes NAME=VALUE, e.g. max_members=500, got {pair[:60]!r}", "limits")
        values[name.strip()] = value.strip()
    names = [f.name for f in dataclasses.fields(Limits) if f.name != "machine"]
    out = {}
    for name, value in values.items():
        if name not in names:
            raise ConfigError(f"unknown limit {name[:40]!r}; limits are: {', '.join(names)}", "limits")
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not number > 0:
            raise ConfigError(f"limit {name} takes a number > 0, got {str(value)[:40]!r}", "limits")
        out[name] = int(number) if number.is_integer() else number
    return out


def cli_limits(parallel: int = 1, own: Mapping[str, float] | None = None, env: Mapping[str, str] | None = None,
               available: float | None = None) -> Limits:
    """The limits `wdlab run` holds a sweep to: demo mode's (today's full limits), else the machine's; the
    user's own on top."""
    base = DEFAULT_LIMITS if demo_mode(env) else machine_limits(parallel, available)
    return dataclasses.replace(base, **(own or {}))


def app_limits(env: Mapping[str, str] | None = None, secrets: Mapping[str, object] | None = None,
               available: float | None = None) -> Limits:
    """The limits the app holds a sweep to. Demo mode: DEMO_LIMITS, exactly. Off the demo: the machine's (each of
    the sweeps training at once gets its share of the memory) with the full limits' server bounds, and the
    practitioner's own from WDLAB_LIMITS (a TOML file as `wdlab run --limits` reads; ConfigError if it is bad).
    WDLAB_CONCURRENT_JOBS applies to both."""
    env = os.environ if env is None else env
    if demo_mode(env, secrets):
        return concurrent_jobs(DEMO_LIMITS, env)
    server = concurrent_jobs(DEFAULT_LIMITS, env)
    machine = machine_limits(server.max_concurrent_jobs, available)
    base = dataclasses.replace(machine, **{name: getattr(server, name) for name in SERVER},
                               max_memory_mb=machine.max_memory_mb * server.max_concurrent_jobs)
    return dataclasses.replace(base, **parse_limits(path=env.get("WDLAB_LIMITS", "").strip() or None,
                                                    flag="WDLAB_LIMITS"))
