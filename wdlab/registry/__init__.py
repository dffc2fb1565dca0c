"""Registry: one declaration per optimizer (optimizers), activation (activations), normalization (norms) and
dataset (datasets; how one is declared: dataset_spec), each holding what every surface needs (label, rule text,
engine step, reference builder, exported code, budget size, widget help). Each module's register(spec) adds an
entry at run time; every surface reads the registries when used, so the CLI, the URL, the widgets, the budget,
the engine, the reference and the code export list it. torch is imported only inside the builders, so validating
settings never loads it."""
