"""Parallel composite upload for large files (what ``gcloud storage cp`` does): the file's
slices are uploaded at once as temporary objects, each verified by CRC32C, then composed
server-side into the final object and deleted. The final name appears only at the compose.

Temporary objects live under ``.skiff-tmp/<upload id>/`` at the bucket root, outside any
artifact tree. ``SKIFF_GCS_PARALLEL_COMPOSITE_UPLOAD``: ``true``, ``false``, or ``auto`` (the
default), which composes files of at least ``SKIFF_GCS_PARALLEL_COMPOSITE_MIN_SIZE`` (150 MiB,
as gcloud) only where the deleted slices cost nothing: a Standard-class bucket without
retention policy, soft delete, versioning or default event hold. Composite objects carry a
CRC32C but no MD5 (Skiff checks the CRC32C). On fake-gcs-server a 1 GB file went up about
1.5x faster this way than as one resumable upload.

``SKIFF_GCS_COMPOSITE_WORKERS`` slices go up (and are deleted) at once: default 4. Each
slice in flight is held in memory (32 MiB for a 1 GB file), so 16 at once held 512 MiB; on
fake-gcs-server 4 at once were no slower (1 GB: slices up in 2.8-3.4 s against 3.1-4.8 s).
"""

from __future__ import annotations

import math
import os
import uuid

from skiff.artifacts.transfer import MiB, part_size, part_workers, run_parallel
from skiff.env import get_env, get_env_int
from skiff_artifacts_gcs.multipart import MAX_COMPONENTS, TMP_ROOT, delete_temporary

_cost_free: dict[str, bool] = {}  # bucket name -> whether slices cost nothing there


def slice_workers() -> int:
    return max(1, get_env_int("GCS_COMPOSITE_WORKERS", min(4, part_workers())))


def enabled(bucket, size: int) -> bool:
    value = (get_env("GCS_PARALLEL_COMPOSITE_UPLOAD") or "auto").strip().lower()
    if value != "auto":
        return value in ("1", "true", "yes", "on")
    if size < get_env_int("GCS_PARALLEL_COMPOSITE_MIN_SIZE", 150 * MiB):
        return False
    free = _cost_free.get(bucket.name)
    if free is None:
        free = _cost_free[bucket.name] = _slices_cost_nothing(bucket)
    return free


def _slices_cost_nothing(bucket) -> bool:
    """Deleting a slice right after the compose is free only when the bucket keeps no
    deleted or noncurrent data and charges no minimum storage duration. Reading that needs
    ``storage.buckets.get``; without it, no composite upload."""
    try:
        props = bucket.client.get_bucket(bucket.name, timeout=30)._properties
    except Exception:  # no permission, or unreachable: the upload itself will say
        return False
    soft_delete = (props.get("softDeletePolicy") or {}).get("retentionDurationSeconds")
    return (props.get("storageClass", "STANDARD") == "STANDARD"
            and not props.get("retentionPolicy") and not int(soft_delete or 0)
            and not (props.get("versioning") or {}).get("enabled")
            and not props.get("defaultEventBasedHold"))


def composite_upload(bucket, key: str, local_file: str, content_type: str | None,
                     opts: dict, checksum: str | None, advance) -> None:
    size = os.path.getsize(local_file)
    slice_size = max(part_size(), math.ceil(size / MAX_COMPONENTS))
    spans = [(start, min(slice_size, size - start)) for start in range(0, size, slice_size)]
    upload_id = uuid.uuid4().hex
    names = [f"{TMP_ROOT}/{upload_id}/{i:04d}" for i in range(len(spans))]
    fd = os.open(local_file, os.O_RDONLY)
    try:
        def upload(index):
            start, length = spans[index]
            data = os.pread(fd, length, start)
            bucket.blob(names[index]).upload_from_string(
                data, content_type="application/octet-stream", checksum=checksum, **opts)
            advance(length)

        run_parallel(upload, range(len(spans)), slice_workers())
        final = bucket.blob(key)
        final.content_type = content_type
        final.compose([bucket.blob(name) for name in names], **opts)
    finally:
        os.close(fd)
        delete_temporary(bucket, names, opts, slice_workers())
