"""CLI: `wdlab run` (train a sweep, write its tidy CSV) and `wdlab code` (print one member's script) and `wdlab view`
(open the app on a result file)."""
