"""Fuzzing of ``subsetsum.solve``: random well-formed, edge-case and malformed calls, each run in
a worker subprocess under a watchdog, every result checked against the solver contract.

    python -m tests.fuzz.run --calls 100000          # on demand (from the repository root)
    python -m tests.fuzz.run --replay 0 1234         # show and rerun one call in-process

``calls.py`` makes call number i of a seed (deterministic) and checks what it returned,
``worker.py`` runs calls sent over a pipe, ``run.py`` spreads calls over workers, restarts a worker
that crashed or overran the watchdog, and reports. ``tests/test_fuzz.py`` runs a CI-sized share.
"""
