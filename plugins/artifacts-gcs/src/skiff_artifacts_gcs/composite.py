"""Parallel composite upload for large files (what ``gcloud storage cp`` does): the file's
slices are uploaded at once as temporary objects, each verified by CRC32C, then composed
server-side into the final object and deleted. The final name appears only at the compose.

Temporary objects live under ``.skiff-tmp/<upload id>/`` at the bucket root, outside any
artifact tree. Opt in with ``SKIFF_GCS_PARALLEL_COMPOSITE_UPLOAD=true``: it is off by default
because composite objects carry a CRC32C but no MD5, buckets with retention policies cannot
delete the slices early, and on the local emulators it measured slower than a resumable
upload.
"""

from __future__ import annotations

import math
import os
import uuid

from skiff.artifacts.transfer import part_size, run_parallel
from skiff.env import get_env

MAX_COMPONENTS = 32  # one compose request takes at most 32 sources


def enabled() -> bool:
    value = get_env("GCS_PARALLEL_COMPOSITE_UPLOAD")
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on")


def composite_upload(bucket, key: str, local_file: str, content_type: str | None,
                     opts: dict, checksum: str | None, advance) -> None:
    size = os.path.getsize(local_file)
    slice_size = max(part_size(), math.ceil(size / MAX_COMPONENTS))
    spans = [(start, min(slice_size, size - start)) for start in range(0, size, slice_size)]
    upload_id = uuid.uuid4().hex
    names = [f".skiff-tmp/{upload_id}/{i:04d}" for i in range(len(spans))]
    fd = os.open(local_file, os.O_RDONLY)
    try:
        def upload(index):
            start, length = spans[index]
            data = os.pread(fd, length, start)
            bucket.blob(names[index]).upload_from_string(
                data, content_type="application/octet-stream", checksum=checksum, **opts)
            advance(length)

        run_parallel(upload, range(len(spans)))
        final = bucket.blob(key)
        final.content_type = content_type
        final.compose([bucket.blob(name) for name in names], **opts)
    finally:
        os.close(fd)
        _delete_quietly(bucket, names, opts)


def _delete_quietly(bucket, names, opts) -> None:
    def delete(name):
        try:
            bucket.blob(name).delete(**opts)
        except Exception:  # slices that never arrived, or a retention policy
            pass

    run_parallel(delete, names)
