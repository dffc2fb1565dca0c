"""Codegen: "Show me the code" — one member of a sweep as a standalone plain-PyTorch script in the course's
style, which reproduces that member's training loss. Pure functions of a config."""
