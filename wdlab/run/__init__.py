"""Run: the one way to train a config (validate once, plan, train, gather rows) and its backends — in process,
worker processes, Ray and Ray Tune — the parts a grid saves as they finish (checkpoint: --resume), plus the app's
job manager and its store of uploaded tables. Knows no torch at import time: the engine is loaded where a sweep
trains."""
