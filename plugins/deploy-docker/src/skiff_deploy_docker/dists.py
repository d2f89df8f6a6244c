"""The Skiff distributions an image needs, as files in the build context: wheels built from
local source checkouts (editable or directory installs), else pinned requirements."""

from __future__ import annotations

import atexit
import glob
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from urllib.parse import unquote, urlparse

from skiff.errors import SkiffException

_built: dict[str, str] = {}  # source dir -> wheel path, for this process


def source_dir(dist_name: str) -> str | None:
    """The local directory ``dist_name`` was installed from, if it was (PEP 610)."""
    try:
        dist = importlib.metadata.distribution(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return None
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    url = json.loads(text).get("url", "")
    if not url.startswith("file://"):
        return None
    path = unquote(urlparse(url).path)
    return path if os.path.isfile(os.path.join(path, "pyproject.toml")) else None


def installed_version(dist_name: str) -> str | None:
    try:
        return importlib.metadata.version(dist_name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _build_wheel(src: str) -> str:
    """A wheel of the project at ``src`` (built once per process)."""
    if src in _built and os.path.exists(_built[src]):
        return _built[src]
    out = tempfile.mkdtemp(prefix="skiff-wheel-")
    atexit.register(shutil.rmtree, out, True)  # kept for this process's later builds
    uv = shutil.which("uv")
    if uv:
        command = [uv, "build", "--wheel", "--quiet", "--out-dir", out, src]
    else:
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, src]
    done = subprocess.run(command, capture_output=True, text=True)
    wheels = glob.glob(os.path.join(out, "*.whl"))
    if done.returncode != 0 or len(wheels) != 1:
        raise SkiffException(f"Building a wheel of {src} failed: {done.stderr.strip()[-800:]}")
    _built[src] = wheels[0]
    return wheels[0]


def bundle(dist_names: list[str], out_dir: str) -> list[str]:
    """Put each distribution in ``out_dir`` (a wheel from its source checkout) or, when it
    came from an index, return ``name==version``; returns pip requirement specs, wheel
    paths relative to ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    specs = []
    for name in dist_names:
        src = source_dir(name)
        if src:
            wheel = _build_wheel(src)
            shutil.copy2(wheel, os.path.join(out_dir, os.path.basename(wheel)))
            specs.append(os.path.basename(wheel))
            continue
        version = installed_version(name)
        if version is None:
            raise SkiffException(f"{name} is not installed here, so it cannot be put in the "
                                 f"image: pip install {name}")
        specs.append(f"{name}=={version}")
    return specs


def download_dependencies(specs: list[str], dists_dir: str, requirements: str | None,
                          python_version: str) -> None:
    """Download every wheel the image will install into ``dists_dir`` (built on this
    machine, so the image build needs no network). Wheels and the resolution are kept in
    the wheel cache (wheelhouse.py) for the next build."""
    from skiff_deploy_docker import wheelhouse

    target = ["--only-binary=:all:", "--python-version", python_version,
              "--platform", "manylinux2014_x86_64", "--platform", "manylinux_2_28_x86_64",
              "--platform", "linux_x86_64", "--platform", "any"]
    wanted = [os.path.join(dists_dir, s) if s.endswith(".whl") else s for s in specs]
    wanted += ["pip", "setuptools", "wheel"]
    key = wheelhouse.resolution_key([*specs, "pip", "setuptools", "wheel"], dists_dir,
                                    requirements, target)
    if wheelhouse.fetch(key, dists_dir):
        return
    local = {n for n in os.listdir(dists_dir) if n.endswith(".whl")}
    os.makedirs(wheelhouse.cache_dir(), exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    if subprocess.run([*pip, "--version"], capture_output=True).returncode != 0:
        pip = ["python3", "-m", "pip"]
    # The cache is a find-links source: pip takes a wheel from it over the same download.
    command = [*pip, "download", "--quiet", "--dest", dists_dir, "--find-links", dists_dir,
               "--find-links", wheelhouse.cache_dir(), *target, *wanted]
    if requirements:
        command += ["-r", requirements]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SkiffException("Downloading the image's dependencies failed: "
                             f"{done.stderr.strip()[-1200:]}")
    wheelhouse.remember(key, dists_dir, local)
