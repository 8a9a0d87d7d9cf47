"""Demo: `tepat demo`, a whole-system command that builds a synthetic regency and demo staff.

It drives every app (synth, registry, integration, targeting, programs, accounts), so it lives in
its own app above all of them, and no production app imports it (tests/test_layering.py).
"""
