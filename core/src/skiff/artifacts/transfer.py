"""Transfer helpers shared by the cloud artifact repositories: settings, a thread pool that
fails fast, retries with backoff, splitting a stream into parts, parallel part uploads with
bounded memory, parallel ranged downloads, and an optional progress bar.

Nothing here imports a cloud SDK; ``rich`` is imported only when a bar is shown.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait

from skiff.env import get_env, get_env_int

MiB = 1024 * 1024


# -- settings (SKIFF_X first, then MLflow's MLFLOW_X) --------------------------------------
def part_size() -> int:
    """Bytes per multipart part / block / resumable chunk."""
    return max(5 * MiB, get_env_int("MULTIPART_UPLOAD_CHUNK_SIZE", 16 * MiB))


def multipart_threshold() -> int:
    """Files at least this large are uploaded and downloaded in parallel parts."""
    return get_env_int("ARTIFACT_MULTIPART_THRESHOLD", 32 * MiB)


def download_threshold() -> int:
    """Files at least this large are downloaded as parallel byte ranges; smaller ones in one
    streamed request (MLflow's MLFLOW_MULTIPART_DOWNLOAD_MINIMUM_FILE_SIZE, 500 MiB)."""
    return get_env_int("MULTIPART_DOWNLOAD_MINIMUM_FILE_SIZE", 500 * MiB)


def max_workers() -> int:
    """Files transferred at once (directories)."""
    return max(1, get_env_int("ARTIFACT_MAX_WORKERS", 16))


def part_workers() -> int:
    """Parts of one large file transferred at once (each holds a part in memory)."""
    return max(1, get_env_int("ARTIFACT_PART_WORKERS", min(8, max_workers())))


def stream_workers() -> int:
    """Parts in flight for ``write_stream`` (the server proxy): fewer than for files, so a
    proxied upload holds at most a few parts in memory."""
    return max(1, get_env_int("ARTIFACT_STREAM_WORKERS", min(4, part_workers())))


def verify_checksums() -> bool:
    value = get_env("ARTIFACT_VERIFY_CHECKSUM")
    return value is None or value.strip().lower() not in ("0", "false", "no", "off")


def timeout_seconds() -> float | None:
    value = get_env("ARTIFACT_UPLOAD_DOWNLOAD_TIMEOUT")
    return float(value) if value else None


# -- running things --------------------------------------------------------------------------
def run_parallel(fn: Callable, items: Iterable, workers: int | None = None) -> list:
    """``[fn(item) for item in items]`` on a thread pool; the first error cancels what has
    not started and is raised."""
    items = list(items)
    if not items:
        return []
    workers = min(workers or max_workers(), len(items))
    if workers == 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(workers, thread_name_prefix="skiff-transfer") as pool:
        futures = [pool.submit(fn, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                for other in futures:
                    other.cancel()
                raise future.exception()
        return [future.result() for future in futures]


def with_retries(fn: Callable, *, retryable: Callable[[BaseException], bool],
                 attempts: int | None = None, base_delay: float = 0.25):
    """Call ``fn()``; retry what ``retryable`` accepts with exponential backoff + jitter."""
    attempts = attempts or get_env_int("ARTIFACT_MAX_RETRIES", 5)
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not retryable(exc):
                raise
            time.sleep(base_delay * (2 ** (attempt - 1)) * (0.5 + random.random()))
    raise AssertionError("unreachable")


# -- parts -------------------------------------------------------------------------------------
def file_chunks(path: str, size: int = MiB) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(size):
            yield chunk


def split_parts(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """Regroup arbitrary chunks into parts of exactly ``size`` bytes (the last may be
    shorter; an empty stream gives one empty part)."""
    buffer = bytearray()
    produced = False
    for chunk in chunks:
        if not buffer and len(chunk) == size:  # already a whole part: no copy
            produced = True
            yield chunk
            continue
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
            produced = True
    if buffer or not produced:
        yield bytes(buffer)


def upload_parts(parts: Iterable[bytes], upload_part: Callable[[int, bytes], object],
                 workers: int | None = None, progress: Callable[[int], None] | None = None,
                 whole_md5: bool = True) -> tuple[list, hashlib._Hash | None]:
    """Upload numbered parts (1-based) concurrently. At most ``workers + 1`` parts are held
    in memory. Returns the results of ``upload_part`` in part order and the MD5 of the
    whole stream (None when ``whole_md5`` is false)."""
    workers = workers or part_workers()
    slots = threading.BoundedSemaphore(workers + 1)
    md5 = hashlib.md5() if whole_md5 else None
    futures: list[Future] = []

    def run(number: int, data: bytes):
        try:
            result = upload_part(number, data)
            if progress:
                progress(len(data))
            return result
        finally:
            slots.release()

    with ThreadPoolExecutor(workers, thread_name_prefix="skiff-part") as pool:
        try:
            for number, data in enumerate(parts, start=1):
                if md5 is not None:
                    md5.update(data)
                slots.acquire()
                for future in futures:  # stop reading early when a part failed
                    if future.done() and future.exception() is not None:
                        raise future.exception()
                futures.append(pool.submit(run, number, data))
            return [future.result() for future in futures], md5
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def download_ranges(size: int, fetch: Callable[[int, int], bytes], local_path: str,
                    chunk: int | None = None, workers: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    ranges: list[tuple[int, int]] | None = None) -> list:
    """Download ``size`` bytes with parallel ``fetch(start, end_inclusive)`` calls into
    ``local_path``, through a temporary file renamed at the end. ``ranges`` overrides the
    even split. Returns each range's MD5 digest (in order)."""
    chunk = chunk or part_size()
    if ranges is None:
        ranges = [(start, min(start + chunk, size) - 1) for start in range(0, size, chunk)]
    tmp = f"{local_path}.{uuid.uuid4().hex[:8]}.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.ftruncate(fd, size)

        def one(span):
            start, end = span
            data = fetch(start, end)
            if len(data) != end - start + 1:
                raise OSError(f"short read for bytes {start}-{end}: got {len(data)}")
            os.pwrite(fd, data, start)
            if progress:
                progress(len(data))
            return hashlib.md5(data).digest()

        digests = run_parallel(one, ranges, workers or part_workers())
        os.close(fd)
        fd = -1
        os.replace(tmp, local_path)
        return digests
    finally:
        if fd >= 0:
            os.close(fd)
        if os.path.exists(tmp):
            os.remove(tmp)


def md5_of_file(path: str) -> hashlib._Hash:
    md5 = hashlib.md5()
    for chunk in file_chunks(path, 4 * MiB):
        md5.update(chunk)
    return md5


def list_local_files(local_dir: str) -> list[tuple[str, str]]:
    """(absolute path, posix path relative to ``local_dir``) for every file below it."""
    found = []
    for root, _dirs, files in os.walk(local_dir):
        rel = os.path.relpath(root, local_dir)
        for name in files:
            rel_file = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            found.append((os.path.join(root, name), rel_file))
    return found


def stream_to_file(chunks: Iterable[bytes], local_path: str,
                   segment: int | None = None) -> hashlib._Hash | list[bytes]:
    """Write chunks to ``local_path`` through a temporary name. Returns their MD5, or with
    ``segment`` the MD5 digests of each ``segment``-byte piece (to rebuild an S3 multipart
    ETag)."""
    md5 = hashlib.md5()
    digests: list[bytes] = []
    filled = 0
    tmp = f"{local_path}.{uuid.uuid4().hex[:8]}.partial"
    try:
        with open(tmp, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
                if segment is None:
                    md5.update(chunk)
                    continue
                view = memoryview(chunk)
                while view:
                    take = min(len(view), segment - filled)
                    md5.update(view[:take])
                    filled += take
                    view = view[take:]
                    if filled == segment:
                        digests.append(md5.digest())
                        md5, filled = hashlib.md5(), 0
        os.replace(tmp, local_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    if segment is None:
        return md5
    if filled or not digests:
        digests.append(md5.digest())
    return digests


# -- progress bar ------------------------------------------------------------------------------
def _progress_wanted(total: int) -> bool:
    value = get_env("ARTIFACT_PROGRESS")
    if value is not None:
        return value.strip().lower() in ("1", "true", "yes", "on")
    return total >= multipart_threshold() and sys.stderr.isatty()


@contextlib.contextmanager
def progress_bar(total: int, description: str):
    """Yield ``advance(n_bytes)``; draws a rich bar on stderr for large transfers when
    stderr is a terminal or ``SKIFF_ARTIFACT_PROGRESS=true``."""
    if not _progress_wanted(total):
        yield lambda n: None
        return
    try:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
    except ImportError:
        yield lambda n: None
        return
    lock = threading.Lock()
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TransferSpeedColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int) -> None:
            with lock:
                bar.update(task, advance=n)

        yield advance
