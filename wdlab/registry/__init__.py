"""Registry: one declaration per optimizer, activation, normalization and dataset, each holding what every surface
needs (label, rule text, engine step, reference builder, exported code, budget size, widget help). torch is imported
only inside the builders, so validating settings never loads it."""
