"""The registry benchmark's data set and queries, shared by the Skiff side (this process)
and the MLflow side (its own virtualenv). Plain Python plus SQLAlchemy only, so both can
import it by path.

Data: N registered models named ``<domain>-model-<i>`` (8 domains) with 3 tags each
(team, owner, tier), half of them with a ``champion`` alias, and 1 to 3 versions each with 2
tags (validated, dataset). Every timestamp is distinct, so each order is total and both
stores must return the very same pages.
"""

from __future__ import annotations

import hashlib
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "sql_store"))

from _data import analyze, bulk_insert  # noqa: E402,F401 - re-exported for both sides

START = 1_700_000_000_000
DOMAINS = ("fraud", "churn", "ranking", "vision", "speech", "pricing", "search", "forecast")
TEAMS = ("risk", "growth", "platform", "research", "ops")
TIERS = ("gold", "silver", "bronze")
STAGES = ("None", "Staging", "Production", "Archived")
PAGE_SIZE = 100

# (what is searched, label, filter, order_by, pages of PAGE_SIZE); one page unless said
QUERIES = [
    ("models", "no filter", None, None, 1),
    ("models", "name LIKE 'fraud-%'", "name LIKE 'fraud-%'", None, 1),
    ("models", "tags.team = 'risk'", "tags.team = 'risk'", None, 1),
    ("models", "LIKE + tags.tier", "name LIKE 'fraud-%' AND tags.tier = 'gold'", None, 1),
    ("models", "name DESC, 5 pages", None, ["name DESC"], 5),
    ("models", "last_updated DESC, 5 pages", None, ["last_updated_timestamp DESC"], 5),
    ("models", "tags.team, 20 pages", "tags.team = 'risk'", None, 20),
    ("versions", "no filter", None, None, 1),
    ("versions", "name LIKE 'fraud-%'", "name LIKE 'fraud-%'", None, 1),
    ("versions", "tags.validated = 'true'", "tags.validated = 'true'", None, 1),
    ("versions", "name ASC, 5 pages", None, ["name ASC"], 5),
    ("versions", "last_updated DESC, 5 pages", None, ["last_updated_timestamp DESC"], 5),
    ("versions", "tags.validated, 20 pages", "tags.validated = 'true'", None, 20),
]


def registry(n_models: int, seed: int = 7):
    """(models, model tags, versions, version tags, aliases) as plain dicts/tuples."""
    rng = random.Random(seed)
    counts = [rng.randint(1, 3) for _ in range(n_models)]
    # Distinct update times, shuffled, so "last updated" is not the creation order.
    stamps = [START + 10_000_000 + 7 * i for i in range(n_models + sum(counts))]
    rng.shuffle(stamps)
    stamp = iter(stamps)
    models, model_tags, versions, version_tags, aliases = [], [], [], [], []
    for i, n_versions in enumerate(counts):
        name = f"{rng.choice(DOMAINS)}-model-{i:05d}"
        created = START + i * 1000
        models.append({"name": name, "created": created, "updated": next(stamp),
                       "description": f"Model number {i}", "last_version": n_versions})
        model_tags += [(name, "team", rng.choice(TEAMS)),
                       (name, "owner", f"user{rng.randrange(50)}"),
                       (name, "tier", rng.choice(TIERS))]
        for version in range(1, n_versions + 1):
            versions.append({
                "name": name, "version": version, "created": created + version,
                "updated": next(stamp), "stage": rng.choice(STAGES),
                "source": f"s3://bench-bucket/models/{name}/{version}",
                "run_id": f"{rng.getrandbits(128):032x}", "status": "READY"})
            version_tags += [(name, version, "validated", rng.choice(("true", "false"))),
                             (name, version, "dataset", f"ds-{rng.randrange(20)}")]
        if rng.random() < 0.5:
            aliases.append((name, "champion", n_versions))
    return models, model_tags, versions, version_tags, aliases


def digest(items) -> str:
    """Identity of a result list (names and versions in order), compared across stores."""
    h = hashlib.sha1()
    for item in items:
        h.update(f"{item.name}/{getattr(item, 'version', '')};".encode())
    return h.hexdigest()[:12]


def attempt(search_models, search_versions, index: int) -> dict:
    """One timed run of ``QUERIES[index]`` (all its pages): wall and CPU seconds, the
    number of results and their digest. ``search_*(filter, max_results, order_by, token)``."""
    import time

    kind, _label, filter_string, order_by, pages = QUERIES[index]
    search = search_models if kind == "models" else search_versions
    found, token = [], None
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(pages):
        page = search(filter_string, PAGE_SIZE, order_by, token)
        found.extend(page)
        token = page.token
        if not token:
            break
    return {"s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "count": len(found), "digest": digest(found)}


def label(index: int) -> str:
    kind, name, *_ = QUERIES[index]
    return f"{kind}: {name}"
