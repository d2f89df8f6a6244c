"""Seeds a file store for the browser tests and prints what it made as JSON.
Run as a subprocess: ``python _seed.py STORE_DIR``."""

import json
import struct
import sys
import time
import zlib

PAYLOAD = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


def _png() -> bytes:
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + b"\x00\x80\xff" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


XSS_MODEL = 'xss-<img src=x onerror="window.__xss=1">'  # model names may not hold a '/'


def _seed_registry(store_dir: str, runs: list[str], first: str, xss_run: str) -> None:
    from skiff.entities import RunTag
    from skiff.tracking._stores import get_registry_store

    registry = get_registry_store(f"file://{store_dir}", f"file://{store_dir}")
    registry.create_registered_model("ui-model", [RunTag("owner", "ml")], "a model")
    registry.create_model_version("ui-model", f"runs:/{runs[0]}/model", runs[0])
    registry.create_model_version("ui-model", f"runs:/{first}/model", first,
                                  [RunTag("validated", "yes")])
    registry.transition_model_version_stage("ui-model", "1", "Archived", False)
    registry.transition_model_version_stage("ui-model", "2", "Production", False)
    registry.set_registered_model_alias("ui-model", "champion", "2")
    registry.create_registered_model(XSS_MODEL, [RunTag("k", PAYLOAD)], PAYLOAD)
    registry.create_model_version(XSS_MODEL, PAYLOAD, xss_run, [RunTag("k", PAYLOAD)],
                                  description=PAYLOAD)
    registry.set_registered_model_alias(XSS_MODEL, "a1", "1")


def main(store_dir: str) -> None:
    from skiff.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
    from skiff.tracking._stores import get_tracking_store

    store = get_tracking_store(f"file://{store_dir}")
    now = int(time.time() * 1000)
    out = {}

    def run(exp, name, params=(), metrics=(), tags=(), start=0, parent=None):
        tag_objs = [RunTag(k, v) for k, v in tags]
        if parent:
            tag_objs.append(RunTag("mlflow.parentRunId", parent))
        tag_objs.append(RunTag("mlflow.source.name", "train.py"))
        r = store.create_run(exp, "tester", now - 100_000 + start, tag_objs, name)
        rid = r.info.run_id
        store.log_batch(rid, [Metric(k, v, now, s) for k, v, s in metrics],
                        [Param(k, str(v)) for k, v in params], [])
        store.update_run_info(rid, "FINISHED", now + start, None)
        return rid

    demo = store.create_experiment("ui-demo")
    other = store.create_experiment("ui-other")
    out["demo"], out["other"] = demo, other
    runs = []
    for i in range(30):
        runs.append(run(demo, f"demo-{i:02d}", params=[("lr", 0.01 * (i + 1)),
                        ("model", "tree" if i % 2 else "linear")],
                        metrics=[("acc", 0.5 + i / 100, 0), ("loss", 1 / (i + 1), 0)],
                        tags=[("team", "red" if i % 3 else "blue")], start=i * 10))
    out["runs"] = runs
    first = runs[-1]  # newest: top of the default order
    history = [Metric("loss", 1.0 / (s + 1), now + s, s) for s in range(2000)]
    for k in range(0, len(history), 1000):
        store.log_batch(first, history[k:k + 1000], [], [])
    second = runs[-2]
    store.log_batch(second, [Metric("loss", 2.0 / (s + 1), now + s, s)
                             for s in range(0, 2000, 7)], [], [])
    out["parent"] = first
    out["children"] = [run(demo, f"child-{i}", metrics=[("loss", 0.1, 0)], parent=first)
                       for i in range(2)]
    out["deleted"] = run(demo, "gone-run", metrics=[("loss", 0.5, 0)])
    store.delete_run(out["deleted"])
    out["other_runs"] = [run(other, f"other-{i}", params=[("lr", 0.5), ("depth", i)],
                             metrics=[("acc", 0.9 - i / 10, 0), ("loss", 0.2 + i / 10, 0)])
                         for i in range(3)]
    store.log_inputs(first, [DatasetInput(Dataset("train-set", "abc123", "local", "/d/train"),
                                          [InputTag("mlflow.data.context", "training")])])

    import os
    import tempfile

    from skiff.artifacts.resolve import get_artifact_repository

    repo = get_artifact_repository(store.get_run(first).info.artifact_uri)
    files = {
        "cfg/features.json": json.dumps({"features": ["a", "b"], "n": 2}),
        "data.csv": "col_a,col_b\n1,2\n3,4\n",
        "notes.txt": "plain notes\nsecond line\n",
        "model/MLmodel": "artifact_path: model\nflavors:\n  python_function: {}\n",
        "model/conda.yaml": "name: env\ndependencies: [python=3.11]\n",
    }
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in files.items():
            path = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        with open(os.path.join(tmp, "plot.png"), "wb") as f:
            f.write(_png())
        repo.log_artifacts(tmp)

    # Every user-writable field carries a script payload.
    xss_exp = store.create_experiment("xss " + PAYLOAD)
    out["xss_experiment"] = xss_exp
    xss_run = run(xss_exp, "run " + PAYLOAD, params=[("p", PAYLOAD)],
                  metrics=[("m", 1.0, 0), ("m", 2.0, 1)],
                  tags=[("t", PAYLOAD), ("mlflow.note.content", PAYLOAD),
                        ("mlflow.source.name", PAYLOAD)])
    store.log_inputs(xss_run, [DatasetInput(Dataset(PAYLOAD, "d1", "local", PAYLOAD),
                                            [InputTag("mlflow.data.context", PAYLOAD)])])
    out["xss_run"] = xss_run
    xrepo = get_artifact_repository(store.get_run(xss_run).info.artifact_uri)
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in {"x.txt": PAYLOAD, "x.json": json.dumps({"k": PAYLOAD}),
                          "x.csv": f"h{PAYLOAD}\n{PAYLOAD}\n", "x.html": PAYLOAD,
                          "MLmodel": f"name: {PAYLOAD}\n"}.items():
            with open(os.path.join(tmp, rel), "w", encoding="utf-8") as f:
                f.write(text)
        xrepo.log_artifacts(tmp)

    _seed_registry(store_dir, runs, first, xss_run)
    out["payload"] = PAYLOAD
    out["xss_model"] = XSS_MODEL
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
