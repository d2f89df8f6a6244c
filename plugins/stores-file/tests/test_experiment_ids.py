"""``create_experiment_with_id``: what ``skiff migrate`` uses to keep experiment IDs."""

from __future__ import annotations

import os

import pytest

from skiff.entities import ExperimentTag
from skiff.errors import SkiffException
from skiff_stores_file.store import FileTrackingStore


@pytest.fixture
def store(tmp_path):
    return FileTrackingStore(str(tmp_path / "mlruns"))


def test_chosen_id(store, tmp_path):
    assert store.create_experiment_with_id("7", "seven", tags=[ExperimentTag("k", "v")]) == "7"
    exp = store.get_experiment("7")
    assert (exp.name, exp.tags) == ("seven", {"k": "v"})
    assert exp.artifact_location.endswith("/mlruns/7")
    assert (tmp_path / "mlruns" / "7" / "meta.yaml").is_file()


@pytest.mark.parametrize("experiment_id, code", [
    ("0", "RESOURCE_ALREADY_EXISTS"),  # the Default experiment
    ("models", "RESOURCE_ALREADY_EXISTS"),  # the registry's folder
    ("../x", "INVALID_PARAMETER_VALUE"),
    (".trash", "INVALID_PARAMETER_VALUE"),
])
def test_refused_ids(store, experiment_id, code):
    os.makedirs(os.path.join(store.root, "models"), exist_ok=True)  # as the registry makes it
    with pytest.raises(SkiffException) as caught:
        store.create_experiment_with_id(experiment_id, "x")
    assert caught.value.error_code == code


def test_taken_id_or_name(store):
    store.create_experiment_with_id("7", "seven")
    with pytest.raises(SkiffException, match="taken"):
        store.create_experiment_with_id("7", "other")
    store.delete_experiment("7")  # a deleted experiment still holds its ID
    with pytest.raises(SkiffException, match="taken"):
        store.create_experiment_with_id("7", "other")
    with pytest.raises(SkiffException) as caught:
        store.create_experiment_with_id("8", "seven")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"
