"""The MLflow 3.17.2 side of bench_registry_search.py, run inside MLflow's own virtualenv.

    python _mlflow_side.py '<json config>'

Creates MLflow's schema with its model-registry SqlAlchemyStore and bulk-loads the same data
set as the Skiff side straight into MLflow's tables, then prints one JSON line (the load
time) and serves the benchmark: each line read from stdin is the index of a query in
``QUERIES``, answered with one JSON line of one timed run of it through the store's Python
API (``_registry_data.attempt``). An empty line or EOF ends it.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import _registry_data as data  # noqa: E402

WORKSPACE = "default"  # MLflow 3.x keys every registry row by workspace


def _load(store, n_models: int) -> None:
    models, model_tags, versions, version_tags, aliases = data.registry(n_models)
    with store.engine.begin() as conn:
        data.bulk_insert(conn, "registered_models", [
            "name", "creation_time", "last_updated_time", "description", "workspace"],
            ((m["name"], m["created"], m["updated"], m["description"], WORKSPACE)
             for m in models))
        data.bulk_insert(conn, "registered_model_tags", ["key", "value", "name", "workspace"],
                         ((k, v, n, WORKSPACE) for n, k, v in model_tags))
        data.bulk_insert(conn, "model_versions", [
            "name", "version", "creation_time", "last_updated_time", "description", "user_id",
            "current_stage", "source", "run_id", "status", "status_message", "run_link",
            "storage_location", "workspace"],
            ((v["name"], v["version"], v["created"], v["updated"], None, None, v["stage"],
              v["source"], v["run_id"], v["status"], None, None, v["source"], WORKSPACE)
             for v in versions))
        data.bulk_insert(conn, "model_version_tags",
                         ["key", "value", "name", "version", "workspace"],
                         ((k, val, n, v, WORKSPACE) for n, v, k, val in version_tags))
        data.bulk_insert(conn, "registered_model_aliases",
                         ["alias", "version", "name", "workspace"],
                         ((a, v, n, WORKSPACE) for n, a, v in aliases))
        data.analyze(conn)


def main() -> None:
    config = json.loads(sys.argv[1])
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore

    store = SqlAlchemyStore(config["uri"])
    start = time.perf_counter()
    _load(store, config["models"])
    print(json.dumps({"load_s": time.perf_counter() - start}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        result = data.attempt(
            lambda f, n, o, t: store.search_registered_models(f, n, o, t),
            lambda f, n, o, t: store.search_model_versions(f, n, o, t), int(line))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
