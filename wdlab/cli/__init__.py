"""CLI: `wdlab run` (train a sweep, write its tidy CSV) and `wdlab code` (print one member's script)."""
