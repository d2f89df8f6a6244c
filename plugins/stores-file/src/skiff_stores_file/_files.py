"""File primitives of the store: YAML, atomic writes, appends, listings and a stat cache.

Every write is safe when several processes log to one store at once:
- metric points are appended with one ``write`` on an ``O_APPEND`` descriptor;
- meta.yaml, tag and param files are written to a temporary file and moved into place,
  so a reader sees the old or the new content, never half a file;
- params are created with ``link``, which fails when another writer got there first.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import uuid

import yaml

from skiff.errors import SkiffException

try:  # libyaml is 5-10x faster than the pure-Python loader
    _Loader = yaml.CSafeLoader
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader
    _Dumper = yaml.SafeDumper

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

META = "meta.yaml"
_LARGE_TEXT = 4096
# The longest file or folder name Linux and macOS file systems allow (NAME_MAX), in bytes.
NAME_MAX_BYTES = 255
_TMP_SUFFIX = ".skiff-tmp"


class CorruptFileError(Exception):
    """A meta.yaml that exists but cannot be understood."""


def check_keys_fit(keys, kind: str, folder: str | None = None) -> None:
    """Keys become files below ``folder`` ('a/b' is the file b in the folder a): refuse,
    before anything is written, a key the file system cannot name (MLflow allows 250
    characters, up to 1,000 bytes in UTF-8; a name holds 255 bytes), or one that needs a
    file and a folder at the same place: 'a/b' beside 'a' in the same call or, with
    ``folder``, beside one already stored."""

    def conflict(key: str, other: str):
        return SkiffException.invalid_parameter_value(
            f"Invalid {kind} name '{key}': it conflicts with '{other}'. A file store keeps "
            "each key as a file, so one key cannot also be a folder of others (like 'a' "
            "and 'a/b').")

    keys = list(keys)
    given = set(keys)
    for key in keys:
        parts = key.split("/")
        for part in parts:
            size = len(part.encode("utf-8", "surrogatepass"))
            if size > NAME_MAX_BYTES:
                raise SkiffException.invalid_parameter_value(
                    f"Invalid {kind} name '{key[:40]}...': a file store keeps it as a file, "
                    f"and '{part[:20]}...' is {size} bytes in UTF-8, past the file "
                    f"system's limit of {NAME_MAX_BYTES} bytes a name.")
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix in given or (folder and os.path.isfile(os.path.join(folder, *parts[:i]))):
                raise conflict(key, prefix)
        if folder and os.path.isdir(os.path.join(folder, *parts)):
            raise conflict(key, key + "/...")


_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+: \-]*")
_HEX_ID = re.compile(r"[0-9a-f]+")
_YAML_WORDS = frozenset(
    "y n yes no on off true false null".split()
)


def _simple_value(raw: str):
    """The value of a one-line scalar as PyYAML would load it, or raise ValueError when
    the line needs the real parser."""
    first = raw[0]
    if first == "'":
        if len(raw) >= 2 and raw[-1] == "'" and "'" not in raw[1:-1].replace("''", ""):
            return raw[1:-1].replace("''", "'")
        raise ValueError
    if raw == "null" or raw == "~":
        return None
    if raw == "[]":
        return []
    if raw == "{}":
        return {}
    if first.isdigit() or first == "-":
        digits = raw[1:] if first == "-" else raw
        if digits.isdigit():
            if digits == "0" or digits[0] != "0":
                return int(raw)
            raise ValueError  # octal in YAML 1.1
        if _HEX_ID.fullmatch(raw) and not raw.startswith(("0b", "0x")):
            return raw  # a run ID: a string to YAML too (no dot, no 0x/0b prefix)
        raise ValueError
    if (_PLAIN.fullmatch(raw) and raw.lower() not in _YAML_WORDS and ": " not in raw
            and not raw.endswith((" ", ":"))):
        return raw
    raise ValueError


def _parse_line(line: str) -> tuple:
    key, sep, raw = line.partition(": ")
    if not sep or not raw or not key.isidentifier():
        raise ValueError
    return key, _simple_value(raw)


# Most lines repeat from one meta.yaml to the next ("status: 3", "tags: []"...).
_LINE_CACHE: dict[str, tuple] = {}


def _load_simple(text: str) -> dict | None:
    """meta.yaml files are flat mappings of one-line scalars; reading them without the
    YAML machinery is several times faster. None when the text needs the real parser."""
    out = {}
    cache = _LINE_CACHE
    for line in text.split("\n"):
        if not line:
            continue
        parsed = cache.get(line)
        if parsed is None:
            try:
                parsed = _parse_line(line)
            except ValueError:
                return None
            if len(cache) < 20_000 and type(parsed[1]) not in (list, dict):
                cache[line] = parsed
        out[parsed[0]] = parsed[1]
    return out or None


def load_yaml(text: str, path: str = "") -> dict:
    simple = _load_simple(text)
    if simple is not None:
        return simple
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise CorruptFileError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise CorruptFileError(f"{path}: expected a mapping, got {type(data).__name__}")
    return data


def dump_yaml(data: dict) -> str:
    # MLflow's form: block style, keys sorted, UTF-8 kept readable.
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, allow_unicode=True,
                     sort_keys=True)


def _read_fd(fd: int, size_hint: int) -> str:
    chunks = []
    want = size_hint + 1 if size_hint else 65536
    while True:
        chunk = os.read(fd, want)
        if not chunk:
            break
        chunks.append(chunk)
        if len(chunk) < want and size_hint:
            break  # a short read of a regular file is its end
        want = 65536
    return b"".join(chunks).decode("utf-8")


def read_text(path: str, size_hint: int = 0) -> str:
    # os.read on a raw descriptor: a third of the cost of open() for small files.
    fd = os.open(path, os.O_RDONLY)
    try:
        return _read_fd(fd, size_hint)
    finally:
        os.close(fd)


def read_yaml(path: str) -> dict:
    return load_yaml(read_text(path), path)


def _tmp_name(directory: str) -> str:
    return os.path.join(directory, f".{uuid.uuid4().hex}{_TMP_SUFFIX}")


def _write_tmp(directory: str, data: str) -> str:
    tmp = _tmp_name(directory)
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(data)
    return tmp


def atomic_write(path: str, data: str, tmp_dir: str | None = None) -> None:
    """Replace ``path`` with ``data`` in one step. ``tmp_dir`` (same filesystem) keeps the
    temporary file out of directories that readers list, such as ``tags/``."""
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = _write_tmp(tmp_dir or parent, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def create_once(path: str, data: str, tmp_dir: str | None = None) -> bool:
    """Create ``path`` holding ``data`` unless it exists; True when this call created it."""
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = _write_tmp(tmp_dir or parent, data)
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:
        # Filesystems without hard links: exclusive create, then fill in.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(data)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def append_bytes(path: str, data: bytes) -> None:
    """Append with one write on an O_APPEND descriptor, so concurrent writers interleave
    whole batches, never parts of lines."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
    try:
        fd = os.open(path, flags, 0o666)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, flags, 0o666)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def list_files(root: str) -> list[tuple[str, str]]:
    """(relative posix key, absolute path) of every file below ``root``; [] if missing.
    Temporary files of in-flight writes are skipped."""
    out: list[tuple[str, str]] = []
    stack = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            entries = os.scandir(directory)
        except (FileNotFoundError, NotADirectoryError):
            continue
        with entries:
            for entry in entries:
                name = entry.name
                if name.endswith(_TMP_SUFFIX):
                    continue
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, prefix + name + "/"))
                else:
                    out.append((prefix + name, entry.path))
    return out


def list_dirs(root: str) -> list[os.DirEntry]:
    try:
        with os.scandir(root) as entries:
            return [e for e in entries if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return []


@contextlib.contextmanager
def locked(directory: str):
    """An exclusive advisory lock on a directory, for read-modify-write of its meta.yaml
    (no lock file is created; other tools see nothing)."""
    if fcntl is None:
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _signature(st) -> tuple:
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class StatCache:
    """Parsed file contents, reused while the file's inode, size and mtime are unchanged.

    Appends change the size, replacements change the inode, so what another process
    writes is seen on the next read. Bounded: cleared when it grows past ``limit``.
    """

    def __init__(self, limit: int = 100_000):
        self._entries: dict[str, tuple] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, path: str, parse, stat_result=None):
        """``parse(text, path)`` of the file's content; raises FileNotFoundError."""
        hit = self._entries.get(path)
        if hit is None and stat_result is None:
            # First read: stat the open descriptor instead of resolving the path twice.
            fd = os.open(path, os.O_RDONLY)
            try:
                st = os.fstat(fd)
                text = _read_fd(fd, st.st_size)
            finally:
                os.close(fd)
        else:
            st = stat_result or os.stat(path)
            if hit is not None and hit[0] == _signature(st):
                return hit[1]
            text = read_text(path, st.st_size)
        signature = _signature(st)
        value = parse(text, path)
        if type(value) is str and len(value) > _LARGE_TEXT:
            return value  # keep memory bounded: long tag values are re-read
        if len(self._entries) >= self._limit:
            with self._lock:
                self._entries.clear()
        self._entries[path] = (signature, value)
        return value

    def forget(self, path: str) -> None:
        self._entries.pop(path, None)

    def forget_under(self, directory: str) -> None:
        prefix = directory.rstrip(os.sep) + os.sep
        with self._lock:
            for key in [k for k in self._entries if k.startswith(prefix)]:
                self._entries.pop(key, None)
