"""Engine: trains the members of one sweep together (the stacked model, the optimizer step with each member's λ,
memory-bounded chunks, snapshots of the parameters) and estimates a sweep's time and memory (budget). Knows no
screen and no job."""
