"""wdlab, the Weight Decay Lab: train one model per weight_decay value and see loss and ‖w‖₂ side by side.

The parts, each a folder (docs/ARCHITECTURE.md draws the map; imports only point down this list):
ui → cli → run · plots · quiz · codegen → engine · reference → frame · laws → data → settings → registry → errors · heap
"""
