"""Settings: the declared settings of a sweep (SweepConfig, Member), the limits a visitor may ask for (and which
apply where: limits.py), and the one
list of parameters (Param) that drives CLI flags, URL keys and widgets. Imports nothing heavy: no torch, no pandas."""
