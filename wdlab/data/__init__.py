"""Data a visitor brings: reading, checking and encoding an uploaded or `--data` CSV into the tensors a sweep trains
on. The named datasets themselves are declared in wdlab.registry.datasets."""
