"""A search page on PostgreSQL is built while its rows stream in (``_streamed_rows``):
the same pages as the plain path, in every form, and a stream that breaks half way gives a
whole page from the plain path, never a partial one."""

from __future__ import annotations

import psycopg
import pytest

from skiff.entities import Metric, Param, RunTag
from skiff_stores_sql import _streamed_rows
from skiff_stores_sql.store import SqlTrackingStore


@pytest.fixture
def store_with_runs(postgres_uri, tmp_path):
    store = SqlTrackingStore(postgres_uri, str(tmp_path))
    exp_id = store.create_experiment("stream")
    for i in range(90):
        run_id = store.create_run(exp_id, "u", i, [RunTag("team", "a" if i % 2 else "b")],
                                  f"r{i}").info.run_id
        store.log_batch(run_id, [Metric("loss", 1.0 / (i + 1), i, 0)],
                        [Param("alpha", str(i % 3))], [])
    return store, exp_id


def _pages(store, exp_id, method, **kwargs):
    pages, token = [], None
    while True:
        page = getattr(store, method)([exp_id], filter_string="params.alpha = '1'",
                                      max_results=7, order_by=["metrics.loss DESC"],
                                      page_token=token, **kwargs)
        pages.append([r if isinstance(r, dict) else r.to_dict() for r in page])
        token = page.token
        if not token:
            return pages


@pytest.mark.parametrize("method", ["search_runs", "search_runs_as_dicts"])
def test_streamed_pages_equal_the_plain_path(store_with_runs, monkeypatch, method):
    store, exp_id = store_with_runs
    streamed_calls = []
    real_stream = psycopg.Cursor.stream

    def counting_stream(self, *args, **kwargs):
        streamed_calls.append(kwargs.get("size"))
        return real_stream(self, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "stream", counting_stream)
    streamed = _pages(store, exp_id, method)
    assert streamed_calls and set(streamed_calls) == {_streamed_rows.CHUNK_ROWS}
    monkeypatch.setattr(_streamed_rows, "autocommit_psycopg", lambda conn: None)
    assert _pages(store, exp_id, method) == streamed
    assert sum(len(page) for page in streamed) == 30


def test_a_stream_broken_half_way_gives_the_whole_page(store_with_runs, monkeypatch):
    store, exp_id = store_with_runs
    real_stream = psycopg.Cursor.stream

    def breaking_stream(self, *args, **kwargs):
        for n, row in enumerate(real_stream(self, *args, **kwargs)):
            if n == 5:
                raise psycopg.OperationalError("the stream broke")
            yield row

    expected = store.search_runs([exp_id], "", max_results=50)
    monkeypatch.setattr(psycopg.Cursor, "stream", breaking_stream)
    found = store.search_runs([exp_id], "", max_results=50)
    assert [r.to_dict() for r in found] == [r.to_dict() for r in expected]
    assert len(found) == 50 and found.token == expected.token
