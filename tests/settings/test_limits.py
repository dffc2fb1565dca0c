"""Which limits apply: demo mode keeps today's; off the demo only the machine's memory; the user's own on top."""
import math

import pytest

from wdlab.engine.budget import validate
from wdlab.settings.config import DEFAULT_LIMITS, DEMO_LIMITS, ConfigError, SweepConfig
from wdlab.settings.limits import MEMORY_SHARE, available_mb, cli_limits, machine_limits, parse_limits

DEMO = {"WDLAB_DEMO": "1"}
OFF = {"WDLAB_DEMO": "0"}


def test_demo_mode_keeps_todays_limits_exactly():
    assert cli_limits(env=DEMO) == DEFAULT_LIMITS
    assert DEMO_LIMITS.max_members == 24 and DEFAULT_LIMITS.max_members == 64   # both unchanged


def test_off_the_demo_only_memory_is_bounded():
    lim = cli_limits(env=OFF, available=10_000)
    assert lim.machine and lim.max_sweep_mb == pytest.approx(10_000 * MEMORY_SHARE)
    for name in ("max_members", "max_wd_values", "max_epochs", "max_width", "max_steps", "max_seconds", "max_work"):
        assert getattr(lim, name) == math.inf, name
    assert lim.max_upload_bytes == DEFAULT_LIMITS.max_upload_bytes   # a table's size stays capped until lifted
    assert machine_limits(parallel=4, available=10_000).max_sweep_mb == pytest.approx(2_000)   # a share each


def test_the_issue_grid_is_refused_in_demo_mode_and_accepted_off_it():
    cfg = SweepConfig(preset="moons", optimizers=("adam", "adamw"), lrs=(0.001, 0.003, 0.01, 0.03),
                      weight_decays=(0, 1e-4, 1e-3, 1e-2, 1e-1, 0.3), seeds=(0, 1, 2))
    with pytest.raises(ConfigError, match=r"144 members = optimizers × lrs × weight_decays × seeds \(at most 64\)"):
        validate(cfg, cli_limits(env=DEMO))
    assert validate(cfg, cli_limits(env=OFF, available=8_000)).bytes > 0


def test_a_member_too_large_for_the_machine_is_refused_off_the_demo():
    cfg = SweepConfig(preset="digits", hidden=(100_000, 100_000), weight_decays=(0.0,))
    with pytest.raises(ConfigError, match="too large for this machine: .* MB are available to it"):
        validate(cfg, cli_limits(env=OFF, available=8_000))


def test_own_limits_from_pairs_and_a_file(tmp_path):
    f = tmp_path / "limits.toml"
    f.write_text("max_members = 100\nmax_seconds = 60.5\n")
    assert parse_limits(["max_members=500"], str(f)) == {"max_members": 500, "max_seconds": 60.5}
    lim = cli_limits(env=OFF, own={"max_members": 3}, available=8_000)
    with pytest.raises(ConfigError, match=r"5 members .*\(at most 3\)"):
        validate(SweepConfig(), lim)


@pytest.mark.parametrize("pairs,says", [
    (["members=3"], "unknown limit 'members'; limits are: max_wd_values"),
    (["max_members"], "--limit takes NAME=VALUE"),
    (["max_members=-1"], "limit max_members takes a number > 0"),
    (["max_members=lots"], "limit max_members takes a number > 0"),
])
def test_bad_own_limits_say_what_is_allowed(pairs, says):
    with pytest.raises(ConfigError, match=says):
        parse_limits(pairs)


def test_bad_limits_file(tmp_path):
    (tmp_path / "bad.toml").write_text("max_members = [")
    with pytest.raises(ConfigError, match="not TOML"):
        parse_limits((), str(tmp_path / "bad.toml"))
    with pytest.raises(ConfigError, match="No such file"):
        parse_limits((), str(tmp_path / "none.toml"))


def test_available_memory_is_read_from_meminfo(tmp_path):
    (tmp_path / "meminfo").write_text("MemTotal: 100 kB\nMemAvailable:    2000000 kB\n")
    assert available_mb(str(tmp_path / "meminfo")) == pytest.approx(2_048)
    assert available_mb(str(tmp_path / "missing")) > 0


def test_the_app_keeps_the_demos_limits_in_demo_mode_and_the_machines_off_it(tmp_path):
    from wdlab.settings.limits import app_limits
    own = tmp_path / "own.toml"
    own.write_text("max_epochs = 100\n")
    assert app_limits(DEMO, available=10_000) == DEMO_LIMITS
    assert app_limits({**DEMO, "WDLAB_LIMITS": str(own)}) == DEMO_LIMITS        # the hosted demo's, exactly
    lim = app_limits(OFF, available=10_000)
    assert lim.machine and lim.max_members == lim.max_epochs == lim.max_wd_values == math.inf
    jobs = DEFAULT_LIMITS.max_concurrent_jobs                                   # each sweep training at once: a share
    assert lim.max_sweep_mb == pytest.approx(10_000 * MEMORY_SHARE / jobs)
    for name in ("max_concurrent_jobs", "max_queued_jobs", "max_results", "max_result_mb", "max_sessions",
                 "max_upload_bytes", "max_table_cells"):                        # the server's own shape stays
        assert getattr(lim, name) == getattr(DEFAULT_LIMITS, name), name
    assert app_limits({**OFF, "WDLAB_CONCURRENT_JOBS": "4"}, available=10_000).max_sweep_mb == pytest.approx(2_000)
    assert app_limits({**OFF, "WDLAB_LIMITS": str(own)}, available=10_000).max_epochs == 100
    own.write_text("max_epochs = 'lots'\n")
    with pytest.raises(ConfigError, match="limit max_epochs takes a number > 0"):
        app_limits({**OFF, "WDLAB_LIMITS": str(own)})
    with pytest.raises(ConfigError, match=f"WDLAB_LIMITS {tmp_path / 'none.toml'}: No such file"):
        app_limits({**OFF, "WDLAB_LIMITS": str(tmp_path / "none.toml")})
    assert "no cap on sizes" in lim.describe() and "24 members" in DEMO_LIMITS.describe()
