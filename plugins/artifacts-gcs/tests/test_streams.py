import io

import pytest

from skiff_artifacts_gcs.streams import IteratorReader


def test_iterator_reader_reads_and_rewinds_last_chunk():
    reader = IteratorReader([b"abc", b"defg"], iter([b"hij"]))
    assert reader.tell() == 0
    assert reader.read(5) == b"abcde"
    assert reader.tell() == 5
    reader.seek(2)  # a resumable upload resending its last chunk
    assert reader.read(4) == b"cdef"
    assert reader.read() == b"ghij"
    assert reader.read(3) == b""
    with pytest.raises(io.UnsupportedOperation):
        reader.seek(0)
    assert reader.seek(0, io.SEEK_CUR) == 10
