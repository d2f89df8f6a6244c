"""The benchmark's data sets and bulk loading, shared by the Skiff side (this process) and
the MLflow side (its own virtualenv). Plain Python plus SQLAlchemy only, so both can import
it by path.

Data: an experiment of N runs with 5 params, 5 metrics and 3 tags each, and one run with a
metric history of P points (step i, one point per step).
"""

from __future__ import annotations

import math
import random
import time

PARAM_KEYS = ("alpha", "beta", "gamma", "delta", "epsilon")
METRIC_KEYS = ("rmse", "mae", "r2", "loss", "accuracy")
START = 1_700_000_000_000
SEARCH_FILTER = "metrics.rmse < 0.5 and params.alpha = '0.1'"
SEARCH_ORDER = ["metrics.rmse"]
HISTORY_KEY = "loss"
DOWNSAMPLE_RUNS = 3  # a single sub-100 ms call was decided by the machine's load


def best_of(fn, runs: int = DOWNSAMPLE_RUNS):
    """(fn()'s result, best wall seconds, best CPU seconds) of ``runs`` calls: the first
    pays the cold caches, the best is the figure least disturbed by other work."""
    walls, cpus = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return result, min(walls), min(cpus)


def search_pages(store, exp_id: str, max_pages: int, prefix: str = "search") -> dict:
    """Every page of the benchmark's search (either store: same signature), timed; the
    first page on its own too. Keys start with ``prefix``."""
    pages, token, found, out = 0, None, 0, {}
    t0, c0 = time.perf_counter(), time.process_time()
    while True:
        page = store.search_runs([exp_id], SEARCH_FILTER, 1, 1000, SEARCH_ORDER, token)
        pages += 1
        found += len(page)
        if pages == 1:
            out[f"{prefix}_first_page_s"] = time.perf_counter() - t0
            out[f"{prefix}_first_page_cpu_s"] = time.process_time() - c0
        token = page.token
        if not token or pages >= max_pages:
            break
    out[f"{prefix}_all_pages_s"] = time.perf_counter() - t0
    out[f"{prefix}_all_pages_cpu_s"] = time.process_time() - c0
    out[f"{prefix}_pages"] = pages
    out[f"{prefix}_found"] = found
    return out


def search_cold_and_warm(store, exp_id: str, max_pages: int) -> dict:
    """The search timed twice: right after loading (the database's caches hold whatever
    the load and the history left there) and again at once, as a server that has served
    it before (its pages cached)."""
    out = search_pages(store, exp_id, max_pages)
    out.update(search_pages(store, exp_id, max_pages, prefix="search_warm"))
    return out


def runs(n: int, seed: int = 1):
    """(run_id, start_time, params, metrics, tags) for n runs, the same on both sides."""
    rng = random.Random(seed)
    for i in range(n):
        run_id = f"{rng.getrandbits(128):032x}"
        params = {
            "alpha": rng.choice(("0.1", "0.2", "0.3", "0.5", "1.0")),
            "beta": rng.choice(("a", "b", "c")),
            "gamma": str(rng.randint(1, 100)),
            "delta": rng.choice(("x", "y")),
            "epsilon": f"{rng.random():.4f}",
        }
        metrics = {key: rng.random() for key in METRIC_KEYS}
        tags = {"mlflow.runName": f"run-{i}", "mlflow.user": "bench",
                "team": rng.choice(("core", "edge", "infra"))}
        yield run_id, START + i * 1000, params, metrics, tags


def history(points: int):
    """(step, timestamp, value) of the long metric history."""
    for step in range(points):
        yield step, START + step, _history_value(step, points)


def last_history_point(points: int):
    step = points - 1
    return step, START + step, _history_value(step, points)


def _history_value(step: int, points: int) -> float:
    return math.exp(-step / max(points, 1)) + 0.01 * math.sin(step)


def bulk_insert(conn, table: str, columns: list[str], rows, chunk: int = 20000) -> int:
    """Insert rows (tuples in ``columns`` order) as fast as the backend allows: COPY on
    PostgreSQL, executemany elsewhere. ``conn`` is a SQLAlchemy connection in a
    transaction."""
    import sqlalchemy as sa

    count = 0
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()
        quoted = ", ".join(f'"{c}"' for c in columns)
        with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    stmt = sa.text(
        f"INSERT INTO {table} ({', '.join(_q(conn, c) for c in columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )
    batch = []
    for row in rows:
        batch.append(dict(zip(columns, row)))
        if len(batch) >= chunk:
            conn.execute(stmt, batch)
            count += len(batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)
        count += len(batch)
    return count


def _q(conn, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def analyze(conn) -> None:
    """Fresh planner statistics, as a long-lived database would have."""
    import sqlalchemy as sa

    if conn.dialect.name in ("postgresql", "sqlite"):
        conn.execute(sa.text("ANALYZE"))


def settle(engine) -> None:
    """After a bulk load, the state a long-lived PostgreSQL server brings a database to
    within minutes: statistics and the visibility map that index-only scans rely on
    (autovacuum's VACUUM ANALYZE; outside a transaction), and the load's dirty pages
    written out (the checkpointer, every 5 minutes by default), so a first search does
    not write them back to make room. Elsewhere, fresh statistics."""
    import sqlalchemy as sa

    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
            conn.execute(sa.text("CHECKPOINT"))
    else:
        with engine.begin() as conn:
            analyze(conn)
