"""Fuzz worker: reads "seed index" lines on stdin, runs each call, writes one JSON line per call.

Started by run.py as ``python -c "...; from fuzz.worker import main; main()"``. Writes
``{"ready": true}`` once imports are done. ``--self-test`` makes calls 1 and 2 of every seed crash
(SIGSEGV) and hang, so that the runner's crash and watchdog handling can be tested.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time


def main() -> None:
    self_test = "--self-test" in sys.argv
    from .calls import make_call, run_call

    import subsetsum  # noqa: F401 - import and start-up cost before "ready"

    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        seed, index = (int(v) for v in line.split())
        if self_test and index == 1:
            os.kill(os.getpid(), signal.SIGSEGV)
        if self_test and index == 2:
            time.sleep(3600)
        call = make_call(seed, index)
        outcome, detail = run_call(call, recheck_threads=index % 20 == 0)
        out.write(json.dumps({"index": index, "outcome": outcome, "detail": detail[:2000],
                              "label": call.label[:300]}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
