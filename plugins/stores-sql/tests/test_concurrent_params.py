"""Two writers logging the same new param to one run at the same instant, on PostgreSQL and
MariaDB (SQLite writers take turns, so they cannot meet this way). The first writer does
what the store's writers do (lock the run's row, insert the param, rewrite the run's
params-and-tags document); the second waits for it to commit and must answer as if the
writers had come one after the other, leaving the param and the document in step."""

from __future__ import annotations

import threading
import time

import conftest
import pytest
import sqlalchemy as sa

from skiff.entities import Param
from skiff.errors import SkiffException
from skiff_stores_sql import _params_tags
from skiff_stores_sql import schema as t
from skiff_stores_sql.store import SqlTrackingStore

_WAITING = {
    "postgres": "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
    "mysql": "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'",
}


def _wait_until_blocked(backend: str) -> None:
    """Until some transaction on the server waits on a row lock (asked over an admin
    connection of its own, in autocommit)."""
    admin = conftest._pg_admin() if backend == "postgres" else conftest._mysql_admin()
    try:
        deadline = time.monotonic() + 20
        while True:
            cursor = admin.cursor()
            cursor.execute(_WAITING[backend])
            if cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the second writer never waited on the first"
            time.sleep(0.25)  # MariaDB refreshes innodb_trx only when unread for 0.1 s
    finally:
        admin.close()


@pytest.mark.parametrize("backend", ["postgres", "mysql"])
@pytest.mark.parametrize("value", ["0.1", "0.2"])
def test_the_same_new_param_from_two_writers_at_once(request, tmp_path, backend, value):
    store = SqlTrackingStore(request.getfixturevalue(f"{backend}_uri"), str(tmp_path))
    run_id = store.create_run(store.create_experiment("race"), "u", 0, [], "r").info.run_id
    outcome = {}

    def second_writer():
        try:
            store.log_batch(run_id, [], [Param("alpha", value)], [])
            outcome["ok"] = True
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    with store.engine.connect() as first:
        with first.begin():  # the first writer's insert, committed once the second waits
            row = _params_tags.lock_run(first, run_id)
            first.execute(t.params.insert().values(run_uuid=run_id, key="alpha", value="0.1"))
            _params_tags.rewrite(first, row, {"alpha": "0.1"})
            thread = threading.Thread(target=second_writer)
            thread.start()
            _wait_until_blocked(backend)
    thread.join(30)
    if value == "0.1":
        assert outcome == {"ok": True}
    else:
        error = outcome["error"]
        assert isinstance(error, SkiffException), repr(error)
        assert error.error_code == "INVALID_PARAMETER_VALUE"
        assert "Changing param values is not allowed" in error.message
    assert store.get_run(run_id).data.params == {"alpha": "0.1"}
    with store.engine.connect() as conn:  # the tables agree
        assert conn.execute(sa.select(t.params.c.key, t.params.c.value)).all() == [
            ("alpha", "0.1")]
