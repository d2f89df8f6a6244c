"""The transfer helpers the cloud artifact plugins share (skiff.artifacts.transfer) and the
multipart mixin's shapes."""

import os
import threading
import time

import pytest

from skiff.artifacts import transfer
from skiff.artifacts.multipart import (
    CreateMultipartUpload,
    MultipartUploadCredential,
    coerce_parts,
    require_multipart_upload,
)
from skiff.errors import SkiffException


@pytest.mark.parametrize("chunks, size, expected", [
    ([], 4, [b""]),
    ([b"abcd"], 4, [b"abcd"]),
    ([b"ab", b"cdef", b"g"], 4, [b"abcd", b"efg"]),
    ([b"abcdefghij"], 3, [b"abc", b"def", b"ghi", b"j"]),
    ([b"", b"ab", b""], 4, [b"ab"]),
])
def test_split_parts(chunks, size, expected):
    assert list(transfer.split_parts(iter(chunks), size)) == expected


def test_upload_parts_keeps_order_and_bounds_memory():
    held = 0
    peak = 0
    lock = threading.Lock()
    produced = []

    def parts():
        nonlocal held, peak
        for i in range(20):
            with lock:
                held += 1
                peak = max(peak, held)
            produced.append(i)
            yield bytes([i]) * 10

    def upload(number, data):
        nonlocal held
        time.sleep(0.005)
        with lock:
            held -= 1
        return number, data[0]

    results, md5 = transfer.upload_parts(parts(), upload, workers=3)
    assert results == [(n, n - 1) for n in range(1, 21)]
    assert peak <= 3 + 2  # in flight + the one being read + the one waiting for a slot
    import hashlib
    assert md5.hexdigest() == hashlib.md5(b"".join(bytes([i]) * 10 for i in range(20))
                                          ).hexdigest()


def test_upload_parts_stops_reading_after_a_failure():
    read = []

    def parts():
        for i in range(100):
            read.append(i)
            yield b"x"

    def upload(number, data):
        if number == 2:
            raise OSError("boom")
        time.sleep(0.01)

    with pytest.raises(OSError, match="boom"):
        transfer.upload_parts(parts(), upload, workers=2)
    assert len(read) < 100


def test_with_retries_backs_off_then_gives_up():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("reset")
        return "ok"

    assert transfer.with_retries(flaky, retryable=lambda e: isinstance(e, ConnectionError),
                                 base_delay=0.001) == "ok"
    assert len(calls) == 3
    with pytest.raises(ValueError):
        transfer.with_retries(lambda: (_ for _ in ()).throw(ValueError("no")),
                              retryable=lambda e: False)
    calls.clear()
    with pytest.raises(ConnectionError):
        transfer.with_retries(lambda: calls.append(1) or (_ for _ in ()).throw(
            ConnectionError()), retryable=lambda e: True, attempts=2, base_delay=0.001)
    assert len(calls) == 2


def test_download_ranges(tmp_path):
    data = os.urandom(100_003)
    target = str(tmp_path / "out.bin")
    assert transfer.download_ranges(len(data), lambda s, e: data[s:e + 1], target,
                                    chunk=10_000, workers=4) == []
    assert open(target, "rb").read() == data

    def streamed(start, end):  # ranges as chunk iterators, digests per 5,000-byte piece
        return (data[i:min(i + 777, end + 1)] for i in range(start, end + 1, 777))

    import hashlib

    digests = transfer.download_ranges(len(data), streamed, target, chunk=10_000,
                                       segment=5_000)
    assert digests == [hashlib.md5(data[i:i + 5_000]).digest()
                       for i in range(0, len(data), 5_000)]
    assert open(target, "rb").read() == data
    calls = []

    def flaky(start, end):
        calls.append(start)
        if calls.count(start) == 1 and start == 20_000:
            return cut(start)  # dies mid-range: the range starts over
        return data[start:end + 1]

    def cut(start):
        yield data[start:start + 10]
        raise ConnectionError("reset")

    transfer.download_ranges(len(data), flaky, target, chunk=10_000, workers=2,
                             retryable=lambda e: isinstance(e, ConnectionError))
    assert open(target, "rb").read() == data and calls.count(20_000) == 2
    with pytest.raises(OSError, match="short read"):
        transfer.download_ranges(len(data), lambda s, e: data[s:e], str(tmp_path / "bad"),
                                 chunk=10_000)
    assert os.listdir(tmp_path) == ["out.bin"]  # no partial file left behind


def test_download_ranges_hashes_the_file_in_order_while_ranges_land(tmp_path):
    import hashlib
    import random

    data = os.urandom(1_000_003)
    target = str(tmp_path / "out.bin")
    calls = []

    def shuffled(start, end):  # ranges finish out of order, in small pieces
        calls.append(start)
        time.sleep(random.random() / 200)
        if start == 300_000 and calls.count(start) == 1:
            return cut(start)  # dies mid-range: rewritten by the retry, hashed once
        return (data[i:min(i + 7_777, end + 1)] for i in range(start, end + 1, 7_777))

    def cut(start):
        yield data[start:start + 50_000]
        raise ConnectionError("reset")

    md5 = hashlib.md5()
    transfer.download_ranges(len(data), shuffled, target, chunk=100_000, workers=4,
                             retryable=lambda e: isinstance(e, ConnectionError), hasher=md5)
    assert md5.hexdigest() == hashlib.md5(data).hexdigest()
    assert open(target, "rb").read() == data and calls.count(300_000) == 2

    def broken(start, end):
        if start == 500_000:
            raise ValueError("boom")
        return data[start:end + 1]

    threads = threading.active_count()
    with pytest.raises(ValueError, match="boom"):
        transfer.download_ranges(len(data), broken, str(tmp_path / "bad"), chunk=100_000,
                                 hasher=hashlib.md5())
    assert threading.active_count() == threads  # the hashing thread stopped with it
    assert os.listdir(tmp_path) == ["out.bin"]


def test_run_parallel_raises_first_error():
    def work(i):
        if i == 3:
            raise KeyError(i)
        return i * 2

    assert transfer.run_parallel(lambda i: i * 2, range(5), workers=3) == [0, 2, 4, 6, 8]
    with pytest.raises(KeyError):
        transfer.run_parallel(work, range(10), workers=3)


def test_progress_bar_only_when_asked(monkeypatch, capsys):
    monkeypatch.setenv("SKIFF_ARTIFACT_PROGRESS", "false")
    with transfer.progress_bar(10**9, "x") as advance:
        advance(5)
    assert capsys.readouterr().err == ""
    pytest.importorskip("rich")
    monkeypatch.setenv("SKIFF_ARTIFACT_PROGRESS", "true")
    with transfer.progress_bar(100, "Uploading model.bin") as advance:
        advance(50)
        advance(50)


def test_multipart_shapes_and_refusal(tmp_path):
    from skiff.artifacts.local import LocalArtifactRepository

    created = CreateMultipartUpload("u1", [MultipartUploadCredential("http://x/1", 1)])
    assert created.to_dict() == {"upload_id": "u1", "credentials": [
        {"url": "http://x/1", "part_number": 1, "headers": {}}]}
    parts = coerce_parts([{"part_number": 2, "etag": "b"}, {"part_number": 1, "etag": "a"}])
    assert [(p.part_number, p.etag) for p in parts] == [(1, "a"), (2, "b")]
    with pytest.raises(SkiffException) as info:
        require_multipart_upload(LocalArtifactRepository(str(tmp_path)))
    assert info.value.error_code == "NOT_IMPLEMENTED" and info.value.http_status == 501


def test_stream_to_file_segment_digests(tmp_path):
    import hashlib

    data = os.urandom(25)
    chunks = [data[:7], data[7:8], data[8:]]
    target = str(tmp_path / "s.bin")
    digests = transfer.stream_to_file(iter(chunks), target, segment=10)
    assert digests == [hashlib.md5(data[i:i + 10]).digest() for i in (0, 10, 20)]
    assert transfer.stream_to_file(iter(chunks), target).hexdigest() == hashlib.md5(
        data).hexdigest()
    assert open(target, "rb").read() == data


def test_stream_part_size_fits_the_part_limit(monkeypatch):
    MiB = transfer.MiB
    for name in ("SKIFF_ARTIFACT_STREAM_PART_SIZE", "SKIFF_MULTIPART_UPLOAD_CHUNK_SIZE",
                 "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert transfer.stream_part_size(2 * 1024 * MiB) == 8 * MiB
    assert transfer.stream_part_size(0) == 8 * MiB
    big = 200 * 1024 * MiB  # 200 GiB: 10,000 parts need about 20.5 MiB each
    size = transfer.stream_part_size(big)
    assert size % MiB == 0 and size * 10_000 >= big and size < 22 * MiB
    assert transfer.stream_part_size(None) == transfer.part_size() == 16 * MiB


def test_stream_to_file_large_streams_hash_in_order(tmp_path):
    import hashlib

    data = os.urandom(20 * transfer.MiB + 5)  # past the inline part: a writer thread
    chunks = [data[i:i + 300_007] for i in range(0, len(data), 300_007)]
    target = str(tmp_path / "big.bin")
    segment = 5 * transfer.MiB
    digests = transfer.stream_to_file(iter(chunks), target, segment=segment)
    assert digests == [hashlib.md5(data[i:i + segment]).digest()
                       for i in range(0, len(data), segment)]
    assert transfer.stream_to_file(iter(chunks), target).hexdigest() == hashlib.md5(
        data).hexdigest()
    assert open(target, "rb").read() == data

    def broken():
        yield from chunks[:40]
        raise ConnectionResetError("gone")

    with pytest.raises(ConnectionResetError):
        transfer.stream_to_file(broken(), str(tmp_path / "cut.bin"))
    assert sorted(os.listdir(tmp_path)) == ["big.bin"]
