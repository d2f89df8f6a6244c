"""For tests: a private Docker engine, and a small local base image. Shipped in the package
so other distributions' tests (the SageMaker image push) can start the same engine.

No image registry is reachable here, so the base image is made with debootstrap (Debian with
python3 and venv) and ``docker import``. The root filesystem tarball is cached under
~/.cache/skiff/docker-base so later runs skip debootstrap; the engine's data root is deleted
when the engine stops (the vfs driver copies every layer in full).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

SOCKET = "/tmp/skiff-docker.sock"
DATA_ROOT = "/tmp/skiff-docker-data"
EXEC_ROOT = "/tmp/skiff-docker-exec"
BASE_IMAGE = "skiff-test-base:bookworm"
DEBIAN_PACKAGES = "python3,python3-venv,ca-certificates"
CACHE = Path(os.path.expanduser("~/.cache/skiff/docker-base"))


class EngineError(RuntimeError):
    pass


class Engine:
    def __init__(self, process: subprocess.Popen, log_path: str):
        self.process = process
        self.log_path = log_path
        self.host = f"unix://{SOCKET}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        _clean_roots()


def _clean_roots() -> None:
    """Unmount what the engine left mounted (netns, overlay) and delete its roots. The
    roots are renamed and deleted by a detached ``rm -rf``: deleting image layers takes
    tens of seconds that no test needs to wait for."""
    with open("/proc/mounts", encoding="utf-8") as f:
        points = [line.split()[1] for line in f]
    for point in sorted(points, key=len, reverse=True):
        if point.startswith((DATA_ROOT, EXEC_ROOT)):
            subprocess.run(["umount", "-l", point], capture_output=True)
    trash = []
    for path in (DATA_ROOT, EXEC_ROOT):
        if os.path.exists(path):
            moved = f"{path}.trash-{os.getpid()}-{time.monotonic_ns()}"
            os.rename(path, moved)
            trash.append(moved)
    trash += [str(p) for p in Path("/tmp").glob("skiff-docker-*.trash-*")
              if str(p) not in trash]
    if trash:
        subprocess.Popen(["rm", "-rf", *trash], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)


def start_engine(timeout: float = 60) -> Engine:
    """Start dockerd on its own socket and data root, with overlay2 where the kernel allows
    it (fast) and vfs otherwise (SKIFF_DOCKER_STORAGE_DRIVER picks one); raises EngineError
    with the engine's log."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineError("dockerd is not installed: apt-get install -y docker.io")
    chosen = os.environ.get("SKIFF_DOCKER_STORAGE_DRIVER")
    errors = []
    for driver in [chosen] if chosen else ["overlay2", "vfs"]:
        try:
            return _start_engine(dockerd, driver, timeout)
        except EngineError as exc:
            errors.append(f"[{driver}] {exc}")
    raise EngineError(" ".join(errors))


def _start_engine(dockerd: str, driver: str, timeout: float) -> Engine:
    _clean_roots()
    if os.path.exists(SOCKET):
        os.unlink(SOCKET)
    log = tempfile.NamedTemporaryFile(prefix="skiff-dockerd-", suffix=".log", delete=False)
    process = subprocess.Popen(
        [dockerd, "--iptables=false", "--ip6tables=false", "--bridge=none",
         f"--storage-driver={driver}", "--host", f"unix://{SOCKET}", "--data-root", DATA_ROOT,
         "--exec-root", EXEC_ROOT, "--pidfile", f"{EXEC_ROOT}.pid"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    engine = Engine(process, log.name)
    deadline = time.monotonic() + timeout
    import docker

    while time.monotonic() < deadline:
        if process.poll() is not None:
            engine.stop()
            raise EngineError(f"dockerd exited with {process.returncode}: "
                              f"{Path(log.name).read_text()[-1500:]}")
        if os.path.exists(SOCKET):
            try:
                docker.DockerClient(base_url=engine.host).ping()
                return engine
            except docker.errors.DockerException:
                pass
        time.sleep(0.3)
    engine.stop()
    raise EngineError(f"dockerd did not answer within {timeout:.0f}s: "
                      f"{Path(log.name).read_text()[-1500:]}")


def base_rootfs() -> Path:
    """A tarball of a minimal Debian with python3 (debootstrap once, then cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / "bookworm-python3.tar"
    if tarball.exists():
        return tarball
    if shutil.which("debootstrap") is None:
        raise EngineError("debootstrap is not installed: apt-get install -y debootstrap")
    root = Path(tempfile.mkdtemp(prefix="skiff-rootfs-"))
    try:
        done = subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={DEBIAN_PACKAGES}", "bookworm",
             str(root), "http://deb.debian.org/debian"], capture_output=True, text=True)
        if done.returncode != 0:
            raise EngineError(f"debootstrap failed: {done.stdout[-1000:]}{done.stderr[-1000:]}")
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc",
                     "usr/share/man", "usr/share/locale"):
            shutil.rmtree(root / junk, ignore_errors=True)
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return tarball


def import_base_image(engine: Engine) -> str:
    """``docker import`` the cached root filesystem as BASE_IMAGE."""
    import docker

    client = docker.DockerClient(base_url=engine.host, timeout=900)
    with open(base_rootfs(), "rb") as f:
        client.api.import_image_from_data(f, repository=BASE_IMAGE.split(":")[0],
                                          tag=BASE_IMAGE.split(":")[1],
                                          changes=['CMD ["/bin/bash"]'])
    return BASE_IMAGE
