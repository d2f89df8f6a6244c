"""The lean skops reader: same objects as skops.io.load, skops itself for everything it
does not handle, and the on-disk list of skops' default trusted types."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest
import skops.io

import skiff.sklearn
from skiff_flavor_sklearn import _skops_reader, _skops_trust, serialization


def _estimators(iris):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X, y = iris
    frame = X.assign(kind=np.where(y == 0, "a", "b"))
    columns = ColumnTransformer([("num", StandardScaler(), list(X.columns)),
                                 ("cat", OneHotEncoder(), ["kind"])])
    return [
        LogisticRegression(max_iter=500).fit(X, y),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y),
        make_pipeline(columns, LogisticRegression(max_iter=500)).fit(frame, y),
    ]


def test_same_objects_as_skops(tmp_path, iris):
    for i, estimator in enumerate(_estimators(iris)):
        path = str(tmp_path / f"{i}.skops")
        skops.io.dump(estimator, path)
        expected = skops.io.load(path)
        loaded = _skops_reader.load(path, None)
        assert loaded is not _skops_reader.NOT_HANDLED, type(estimator).__name__
        assert pickle.dumps(loaded) == pickle.dumps(expected), type(estimator).__name__


def test_skops_loads_what_the_reader_does_not_handle(tmp_path, iris):
    from sklearn.ensemble import RandomForestClassifier

    X, y = iris
    forest = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    path = str(tmp_path / "forest.skops")
    skops.io.dump(forest, path)
    # the tree type is not trusted by default: skops' own error, whichever reader ran
    assert _skops_reader.load(path, None) is _skops_reader.NOT_HANDLED
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException,
                       match="sklearn.tree._tree.Tree"):
        serialization.load(path, serialization.SKOPS)
    trusted = skops.io.get_untrusted_types(file=path)
    loaded = serialization.load(path, serialization.SKOPS, trusted)
    np.testing.assert_array_equal(loaded.predict(X), forest.predict(X))


def _rewrite_schema(path: str, edit) -> None:
    with zipfile.ZipFile(path) as src:
        members = {name: src.read(name) for name in src.namelist()}
    schema = json.loads(members["schema.json"])
    edit(schema)
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in members.items():
            dst.writestr(name, data)


def test_a_tampered_type_is_refused_before_anything_is_imported(tmp_path, classifier):
    path = str(tmp_path / "m.skops")
    skops.io.dump(classifier, path)

    def point_at_a_module_never_imported(schema):
        schema["__module__"], schema["__class__"] = "skiff_never_imported_module", "Evil"

    _rewrite_schema(path, point_at_a_module_never_imported)
    assert _skops_reader.load(path, None) is _skops_reader.NOT_HANDLED
    with pytest.raises(skops.io.exceptions.UntrustedTypesFoundException,
                       match="skiff_never_imported_module.Evil"):
        serialization.load(path, serialization.SKOPS)
    assert "skiff_never_imported_module" not in sys.modules


def test_unknown_loader_or_protocol_goes_to_skops(tmp_path, classifier):
    path = str(tmp_path / "m.skops")
    skops.io.dump(classifier, path)
    _rewrite_schema(path, lambda schema: schema.update(protocol=1))
    assert _skops_reader.load(path, None) is _skops_reader.NOT_HANDLED
    assert serialization.load(path, serialization.SKOPS).__class__ is classifier.__class__
    _rewrite_schema(path, lambda schema: schema.update(protocol=2, __loader__="Mystery"))
    assert _skops_reader.load(path, None) is _skops_reader.NOT_HANDLED
    with pytest.raises(TypeError, match="Can't find loader Mystery"):
        serialization.load(path, serialization.SKOPS)


def test_trust_cache_is_written_and_checked(tmp_path):
    _skops_trust.remember()
    files = os.listdir(tmp_path / "cache")
    assert len(files) == 1 and files[0].startswith("skops-trusted-")
    data = json.loads((tmp_path / "cache" / files[0]).read_text())
    assert "sklearn.linear_model._logistic.LogisticRegression" in (
        data["SKLEARN_ESTIMATOR_TYPE_NAMES"])
    assert _skops_trust._valid(data, data["key"])
    assert not _skops_trust._valid(data, "another scikit-learn")
    data["SKLEARN_ESTIMATOR_TYPE_NAMES"].append("os.system")
    assert not _skops_trust._valid(data, data["key"])


_FRESH_LOAD = """
import json, sys
import skiff.pyfunc
model = skiff.pyfunc.load_model(sys.argv[1])
print(json.dumps({"skops_io": "skops.io" in sys.modules,
                  "pred": model.predict(model.metadata.load_input_example()).tolist()}))
"""


def _fresh_load(path: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _FRESH_LOAD, path], check=True,
                         capture_output=True, text=True, env=dict(os.environ))
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_fresh_process_loads_without_importing_skops_io(tmp_path, iris, classifier):
    X, _ = iris
    skiff.sklearn.save_model(classifier, tmp_path / "m", input_example=X.head(3))
    expected = classifier.predict(X.head(3)).tolist()
    for name in os.listdir(tmp_path / "cache"):  # as on a machine that never saw skops
        os.remove(tmp_path / "cache" / name)
    first = _fresh_load(str(tmp_path / "m"))
    assert first == {"skops_io": True, "pred": expected}
    assert os.listdir(tmp_path / "cache")  # skops listed its trusted types: kept
    assert _fresh_load(str(tmp_path / "m")) == {"skops_io": False, "pred": expected}
