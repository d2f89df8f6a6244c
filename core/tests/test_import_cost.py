"""`import skiff` stays cheap: no heavy dependency is imported until it is used."""

import json
import subprocess
import sys

HEAVY = ["pandas", "numpy", "sqlalchemy", "flask", "boto3", "requests", "urllib3", "yaml"]


def test_import_skiff_imports_no_heavy_module():
    code = (
        "import sys, json, skiff\n"
        "skiff.__version__\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_cli_help_does_not_import_heavy_modules():
    code = (
        "import sys, json\n"
        "from skiff.cli import build_cli\n"
        "build_cli()\n"
        f"print(json.dumps([m for m in {HEAVY[:5]!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
