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


def stream_part_size(total: int | None = None, max_parts: int = 10_000) -> int:
    """Parts for uploads streamed through the server's proxy: 8 MiB (a few in flight keep
    the server's memory low), larger when a known ``total`` would need more than
    ``max_parts`` (S3's limit), and ``part_size()`` when the total is unknown."""
    if total is None:
        return part_size()
    wanted = -(-total // max_parts)
    base = get_env_int("ARTIFACT_STREAM_PART_SIZE", 8 * MiB)
    return max(5 * MiB, base, -(-wanted // MiB) * MiB)


def multipart_threshold() -> int:
    """Files at least this large are uploaded and downloaded in parallel parts."""
    return get_env_int("ARTIFACT_MULTIPART_THRESHOLD", 32 * MiB)


def download_threshold() -> int:
    """Files at least this large are downloaded as parallel byte ranges; smaller ones in one
    streamed request (MLflow's MLFLOW_MULTIPART_DOWNLOAD_MINIMUM_FILE_SIZE, 500 MiB)."""
    return get_env_int("MULTIPART_DOWNLOAD_MINIMUM_FILE_SIZE", 500 * MiB)


def download_chunk_size() -> int:
    """Bytes per ranged request of a parallel download (MLflow's
    MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE, 100 MiB). Ranges stream to disk, so their size
    costs no memory; larger ranges mean fewer requests."""
    return max(MiB, get_env_int("MULTIPART_DOWNLOAD_CHUNK_SIZE", 100 * MiB))


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


def requests_env_is_needed() -> bool:
    """Whether a requests-based SDK must keep reading proxy settings from the environment.
    requests rescans ``os.environ`` for proxies, CA bundles and .netrc on every request
    (a measurable share of a small-file transfer); without proxy variables the scan finds
    nothing that a fixed CA bundle (:func:`requests_ca_bundle`) does not cover."""
    import urllib.request

    return bool(urllib.request.getproxies_environment())


def requests_ca_bundle() -> str | None:
    """The CA bundle requests would take from the environment, if any."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


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
            with memoryview(buffer) as view:  # one copy out, not a slice and then a copy
                part = bytes(view[:size])
            del buffer[:size]
            produced = True
            yield part
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


def download_ranges(size: int, fetch: Callable[[int, int], bytes | Iterable[bytes]],
                    local_path: str, chunk: int | None = None, workers: int | None = None,
                    progress: Callable[[int], None] | None = None,
                    ranges: list[tuple[int, int]] | None = None, segment: int | None = None,
                    retryable: Callable[[BaseException], bool] | None = None,
                    hasher=None) -> list[bytes]:
    """Download ``size`` bytes with parallel ``fetch(start, end_inclusive)`` calls into
    ``local_path``, through a temporary file renamed at the end. ``fetch`` returns the
    range's bytes or an iterable of chunks, which are written as they arrive (a range costs
    no more memory than a chunk). ``ranges`` overrides the even split of ``chunk`` bytes
    (default :func:`download_chunk_size`). A range that fails with an error ``retryable``
    accepts is fetched again. With ``segment``, returns the MD5 digest of every
    ``segment``-byte piece of the file, in order (ranges must start on segment
    boundaries); otherwise an empty list. ``hasher`` (any object with ``update``: an MD5,
    a CRC32C) is fed the whole file in order while the ranges are still downloading, so
    its checksum is ready when the last range lands."""
    chunk = chunk or download_chunk_size()
    if ranges is None:
        ranges = [(start, min(start + chunk, size) - 1) for start in range(0, size, chunk)]
    tmp = f"{local_path}.{uuid.uuid4().hex[:8]}.partial"
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    # One write into the file at a time: the kernel serializes writes to one file anyway,
    # and writers queued in the kernel spin on its lock (on Linux, a quarter of the
    # download's CPU with 8 ranges on 2 cores); queued here, they sleep.
    write_lock = threading.Lock()
    follower = None
    try:
        os.ftruncate(fd, size)
        if hasher is not None:
            follower = _InOrderHasher(fd, ranges, hasher)

        def attempt(start: int, end: int):
            data = fetch(start, end)
            pieces = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
            digester = _Digester(segment) if segment else None
            offset = start
            for piece in pieces:
                if offset + len(piece) > end + 1:
                    raise OSError(f"long read for bytes {start}-{end}")
                with write_lock:
                    _pwrite_all(fd, piece, offset)
                offset += len(piece)
                if follower is not None:
                    follower.written(start, offset)
                if digester is not None:
                    digester.update(piece)
                if progress:
                    progress(len(piece))
            if offset != end + 1:
                raise OSError(f"short read for bytes {start}-{end}: got {offset - start}")
            return digester.result() if digester is not None else []

        def one(span):
            if retryable is None:
                return attempt(*span)
            return with_retries(lambda: attempt(*span), retryable=retryable)

        results = run_parallel(one, ranges, workers or part_workers())
        if follower is not None:
            follower.finish()
        os.close(fd)
        fd = -1
        os.replace(tmp, local_path)
        return [digest for result in results for digest in result]
    finally:
        if follower is not None:
            follower.stop()
        if fd >= 0:
            os.close(fd)
        if os.path.exists(tmp):
            os.remove(tmp)


def _pwrite_all(fd: int, data, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


class _InOrderHasher:
    """Feeds ``hasher`` a file's bytes in order while parallel ranges are still being written
    into it: a thread reads back (from the page cache) the prefix that every range before
    it has completed. The checksum then costs no second pass over the file at the end."""

    def __init__(self, fd: int, ranges: list[tuple[int, int]], hasher):
        self.fd, self.hasher = fd, hasher
        self.ranges = sorted(ranges)  # contiguous from 0, as download_ranges makes them
        # per range start, the offset its bytes are written up to (a retry rewrites the
        # same bytes, so only a higher offset counts)
        self.reached = {start: start for start, _ in self.ranges}
        self.changed = threading.Condition()
        self.stopped, self.error = False, None
        self.thread = threading.Thread(target=self._follow, name="skiff-hash", daemon=True)
        self.thread.start()

    def written(self, start: int, offset: int) -> None:
        """The range starting at ``start`` has its bytes written up to ``offset``."""
        with self.changed:
            if offset > self.reached[start]:
                self.reached[start] = offset
                self.changed.notify_all()

    def _follow(self) -> None:
        try:
            position = 0
            for start, end in self.ranges:
                while position <= end:
                    with self.changed:
                        while self.reached[start] <= position and not self.stopped:
                            self.changed.wait()
                        if self.stopped:
                            return
                        upto = self.reached[start]
                    while position < upto:
                        data = os.pread(self.fd, min(4 * MiB, upto - position), position)
                        if not data:
                            raise OSError(f"short read back at byte {position}")
                        self.hasher.update(data)
                        position += len(data)
        except BaseException as exc:  # noqa: BLE001 - raised by finish() in the caller
            self.error = exc

    def finish(self) -> None:
        """Wait for the last bytes to be hashed (every range is written)."""
        self.thread.join()
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        with self.changed:
            self.stopped = True
            self.changed.notify_all()
        self.thread.join()


def list_local_files(local_dir: str) -> list[tuple[str, str]]:
    """(absolute path, posix path relative to ``local_dir``) for every file below it."""
    found = []
    for root, _dirs, files in os.walk(local_dir):
        rel = os.path.relpath(root, local_dir)
        for name in files:
            rel_file = name if rel == "." else f"{rel}/{name}".replace(os.sep, "/")
            found.append((os.path.join(root, name), rel_file))
    return found


class _Digester:
    """MD5 of a stream, whole or per ``segment``-byte piece (an S3 multipart ETag)."""

    def __init__(self, segment: int | None):
        self.segment, self.md5, self.digests, self.filled = segment, hashlib.md5(), [], 0

    def update(self, chunk: bytes) -> None:
        if self.segment is None:
            self.md5.update(chunk)
            return
        view = memoryview(chunk)
        while view:
            take = min(len(view), self.segment - self.filled)
            self.md5.update(view[:take])
            self.filled += take
            view = view[take:]
            if self.filled == self.segment:
                self.digests.append(self.md5.digest())
                self.md5, self.filled = hashlib.md5(), 0

    def result(self) -> hashlib._Hash | list[bytes]:
        if self.segment is None:
            return self.md5
        if self.filled or not self.digests:
            self.digests.append(self.md5.digest())
        return self.digests


_INLINE_BYTES = 8 * MiB  # below this a stream is written and hashed in the reading thread


def stream_to_file(chunks: Iterable[bytes], local_path: str, segment: int | None = None,
                   hasher=None):
    """Write chunks to ``local_path`` through a temporary name. Returns their MD5, or with
    ``segment`` the MD5 digests of each ``segment``-byte piece (to rebuild an S3 multipart
    ETag), or ``hasher`` (any object with ``update``, e.g. a CRC32C) fed with every chunk.
    Past the first few MiB, writing and hashing move to a second thread so they overlap
    with reading the network (both release the GIL)."""
    digester = _Digester(segment) if hasher is None else hasher
    tmp = f"{local_path}.{uuid.uuid4().hex[:8]}.partial"

    def consume(f, chunk):
        f.write(chunk)
        digester.update(chunk)

    try:
        with open(tmp, "wb") as f:
            seen, pool, pending = 0, None, []
            try:
                for chunk in chunks:
                    if pool is None:
                        consume(f, chunk)
                        seen += len(chunk)
                        if seen >= _INLINE_BYTES:
                            pool = ThreadPoolExecutor(1, thread_name_prefix="skiff-write")
                        continue
                    pending.append(pool.submit(consume, f, chunk))
                    if len(pending) > 8:  # bound the chunks waiting in memory
                        pending.pop(0).result()
                for future in pending:
                    future.result()
            finally:
                if pool is not None:
                    pool.shutdown(wait=True, cancel_futures=True)
        os.replace(tmp, local_path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return digester.result() if hasher is None else hasher


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
