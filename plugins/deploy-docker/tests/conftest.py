from __future__ import annotations

import pytest

ECHO_MODEL = '''
class _Doubler:
    def predict(self, data, params=None):
        rows = data["x"] if hasattr(data, "columns") else data
        return [2 * float(v) for v in list(rows)]


def _load_pyfunc(path):
    return _Doubler()
'''


@pytest.fixture
def model_dir(tmp_path):
    return write_model(tmp_path)


def write_model(parent):
    """A pyfunc model written by hand: its loader module ships in ``code/``."""
    path = parent / "model"
    (path / "code").mkdir(parents=True)
    (path / "code" / "echo_model.py").write_text(ECHO_MODEL)
    (path / "MLmodel").write_text(
        "flavors:\n"
        "  python_function:\n"
        "    loader_module: echo_model\n"
        "    code: code\n"
        "    python_version: 3.11.2\n")
    (path / "requirements.txt").write_text("")
    return path
