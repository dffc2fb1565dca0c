"""Quiz: "predict the effect" cards — the questions, the scenarios that answer them (the bank), and the grading, which
reads only the measured runs."""
