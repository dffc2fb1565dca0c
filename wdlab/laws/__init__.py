"""The laws of weight decay: what theory predicts for a sweep's members from its settings and its data (the ridge
solution, AdamW's 1/λ box, the rotational equilibrium of normalized layers, AdamW's timescale), each law with its
name, formula and source, and the verdict of a measured run against it. numpy and pandas only, no torch."""
