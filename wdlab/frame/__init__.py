"""The tidy frame of a sweep (one row per member per epoch): its columns, the final rows, and the readings made from
it — the Landscape's cells and the grokking events. pandas only, no torch."""
