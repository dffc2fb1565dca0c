"""Prints what the model pictures add to a page's script run (server CPU, no browser): the finished view of a link
with and without them, a slider move, and a live poll while it trains. CPU seconds of this process (the script
runs in one of its threads; a live poll's count includes the training thread's), not wall time: on the shared
machine the wall time of a run is mostly waiting for a core."""
from __future__ import annotations

import argparse
import statistics
import time

from streamlit.testing.v1 import AppTest


def page(query: str, pictures: bool, key: str) -> None:
    """One job of `query` under its own view key, drawn by live.job_view as the explorer draws it."""
    import streamlit as st

    from wdlab.settings.params import from_query
    from wdlab.ui import live
    slot = f"job_{key}"
    if slot not in st.session_state:
        cfg, _ = from_query({k: [v] for k, v in (p.split("=") for p in query.split("&"))})
        live.start(cfg, slot=slot)
    live.job_view(slot, key=key, pictures=pictures)


def script(query: str, pictures: bool, key: str):
    return AppTest.from_function(page, args=(query, pictures, key), default_timeout=120)


def timed_runs(at: AppTest, n: int) -> float:
    """Median CPU seconds of n script runs."""
    times = []
    for _ in range(n):
        t = time.process_time()
        at.run()
        times.append(time.process_time() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--link", default="preset=moons&optimizer=adam&lr=0.01&wd=0,0.001,0.01,0.1,0.3&seeds=0"
                                          "&epochs=300&hidden=64,64")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    for pictures in (False, True):
        at = script(args.link, pictures, "off" if not pictures else "on").run()
        deadline = time.monotonic() + 600
        while not any("Trained" in s.value or "Reused" in s.value for s in at.success):
            assert time.monotonic() < deadline, "the sweep did not finish"
            time.sleep(0.2)
            at.run()
        at.run()  # the figures' memos filled
        finished = timed_runs(at, args.repeats)
        line = f"pictures {'on ' if pictures else 'off'}: finished view rerun {1000 * finished:.0f} ms"
        if pictures:
            slider = at.select_slider(key="on_mv_epoch")
            options = [int(o) for o in slider.options]
            times = []
            for i in range(args.repeats):  # each move draws another epoch: predictions and figures made anew
                t = time.process_time()
                at.select_slider(key="on_mv_epoch").set_value(options[i % len(options)]).run()
                times.append(time.process_time() - t)
            line += f" | slider move (new epoch drawn) {1000 * statistics.median(times):.0f} ms"
        print(line, flush=True)
    # a live poll: a long run of the same shape, timed while it trains (the figures change every new epoch)
    long = args.link.replace("epochs=300", "epochs=2000") + "&batch-size=20"
    for pictures in (False, True):
        key = "live_on" if pictures else "live_off"  # (another seed for the second: not the first one's job)
        at = script(long if not pictures else long.replace("seeds=0", "seeds=1"), pictures, key).run()
        polls = []
        while len(polls) < args.repeats:
            t = time.process_time()
            at.run()
            polls.append(time.process_time() - t)
            if at.success:
                break
            time.sleep(0.4)  # the live view's poll interval (wdlab.ui.state.POLL_SECONDS)
        print(f"pictures {'on ' if pictures else 'off'}: live poll while training "
              f"{1000 * statistics.median(polls):.0f} ms (median of {len(polls)})", flush=True)
        if not at.success:
            at.button(key=f"{key}_cancel").click().run()  # stop it: the next measurement has the cores


if __name__ == "__main__":
    main()
