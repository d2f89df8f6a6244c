"""A separate process for the SQLite concurrency tests (run as a script, so it imports
only the store, not pytest).

    python sqlite_worker.py open URI SYNC_DIR
    python sqlite_worker.py log URI SYNC_DIR SHARED_RUN_ID BATCHES

Each worker writes ``SYNC_DIR/ready-<pid>``, waits for ``SYNC_DIR/go`` so all of them
start together, then prints one JSON line with what it did.
"""

import json
import os
import sys
import time


def _wait_for_go(sync_dir: str) -> None:
    open(os.path.join(sync_dir, f"ready-{os.getpid()}"), "w").close()
    go = os.path.join(sync_dir, "go")
    deadline = time.time() + 120
    while not os.path.exists(go):
        if time.time() > deadline:
            raise SystemExit("no go signal")
        time.sleep(0.005)


def main(argv):
    mode, uri, sync_dir = argv[:3]
    from skiff.entities import Metric, Param, RunTag
    from skiff_stores_sql.store import SqlTrackingStore

    _wait_for_go(sync_dir)
    store = SqlTrackingStore(uri)
    if mode == "open":
        store.create_experiment(f"worker-{os.getpid()}")
        print(json.dumps({"ok": True}))
        return
    shared_run, batches = argv[3], int(argv[4])
    own = store.create_run("0", "worker", int(time.time() * 1000), [], f"w{os.getpid()}")
    run_id = own.info.run_id
    for b in range(batches):
        store.log_batch(
            run_id,
            [Metric(f"m{k}", float(b), b, b) for k in range(100)],
            [Param(f"p{b}", str(b))],
            [RunTag("last", str(b))],
        )
        store.log_metric(shared_run, Metric("shared", float(b), os.getpid(), b))
    print(json.dumps({"ok": True, "run_id": run_id}))


if __name__ == "__main__":
    main(sys.argv[1:])
