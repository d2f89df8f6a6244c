"""MLflow's input rules, enforced before anything is written."""

import pytest

from skiff.entities import Metric, Param, RunTag
from skiff.errors import SkiffException
from skiff.validation import (
    validate_batch,
    validate_key_name,
    validate_metric,
    validate_metrics,
    validate_relative_path,
)


@pytest.mark.parametrize("key", ["a", "a/b", "loss.val", "with space", "x-y_z:1"])
def test_valid_keys(key):
    validate_key_name(key, "metric")


@pytest.mark.parametrize("key", ["", "../a", "a/../b", "/abs", "a//b", "a/", ".", "bad\x00",
                                 "semi;colon", "x" * 251])
def test_invalid_keys(key):
    with pytest.raises(SkiffException) as err:
        validate_key_name(key, "metric")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize("value, timestamp, step", [
    ("1.0", 1, 0), (True, 1, 0), (1.0, -1, 0), (1.0, 1.5, 0), (1.0, 1, "2"),
    (10**400, 1, 0), (1.0, 2**63, 0), (1.0, 1, 2**63), (1.0, 1, -(2**63) - 1)])
def test_invalid_metric_values(value, timestamp, step):
    with pytest.raises(SkiffException):
        validate_metric("m", value, timestamp, step)
    with pytest.raises(SkiffException) as err:
        validate_metrics([Metric("m", value, timestamp, step)])
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_batch_limits_and_duplicate_params():
    with pytest.raises(SkiffException, match="at most 1000 metrics"):
        validate_batch([Metric("m", 1.0, 1, i) for i in range(1001)], [], [])
    with pytest.raises(SkiffException, match="at most 100 params"):
        validate_batch([], [Param(f"p{i}", "v") for i in range(101)], [])
    with pytest.raises(SkiffException, match="Duplicate parameter keys"):
        validate_batch([], [Param("p", "1"), Param("p", "2")], [])


def test_long_values_are_truncated_by_default_or_refused(monkeypatch):
    with pytest.warns(UserWarning):
        params, tags = validate_batch([], [Param("p", "x" * 7000)], [RunTag("t", "y" * 9000)])
    assert len(params[0].value) == 6000 and len(tags[0].value) == 8000
    monkeypatch.setenv("SKIFF_TRUNCATE_LONG_VALUES", "false")
    with pytest.raises(SkiffException, match="exceeded length limit"):
        validate_batch([], [Param("p", "x" * 7000)], [])


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/etc/passwd", "%2e%2e/x", "%252e%252e/x",
                                  "a\\..\\b", "C:/x", "a/\x00b"])
def test_artifact_paths_are_confined(path):
    with pytest.raises(SkiffException, match="Invalid path"):
        validate_relative_path(path)


def test_relative_paths_are_normalised():
    assert validate_relative_path("a/./b/") == "a/b"
    assert validate_relative_path("") == ""
