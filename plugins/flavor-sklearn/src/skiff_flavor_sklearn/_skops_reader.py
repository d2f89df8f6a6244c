"""A lean reader for the common part of the skops format, so loading a plain estimator
does not cost ``import skops.io`` (which imports all of scikit-learn to list the types it
trusts).

It reads ``schema.json`` the way skops 0.16 does for protocol 2: every node names its class,
module and loader; a node whose ``__id__`` was seen before is that same node again; the
whole tree is audited against the types each kind of node trusts by default plus the
caller's ``trusted`` names before anything is imported or built. It handles only the
loaders plain estimators use (objects, dicts, lists, sets, tuples, JSON values, slices,
types and arrays). For anything else - another loader or protocol, another skops version, a type that
is not trusted, a malformed file, no cached trust list - it returns ``NOT_HANDLED`` and
the caller hands the file to ``skops.io.load``, which then loads it or raises its own
error, so what the user sees never depends on which reader ran.
"""

from __future__ import annotations

import importlib
import io
import json
import zipfile

NOT_HANDLED = object()
_PROTOCOL = 2
_SKOPS_SERIES = "0.16."  # the skops release whose loading rules this mirrors
_PRIMITIVES = ("builtins.int", "builtins.float", "builtins.str", "builtins.bool")
_CONTAINERS = ("builtins.list", "builtins.set", "builtins.map", "builtins.tuple")
_UNBUILT = object()


class _Unsupported(Exception):
    """The file needs skops itself."""


class _Node:
    __slots__ = ("loader", "module", "name", "parts", "value")

    def __init__(self, loader: str, module: str, name: str):
        self.loader, self.module, self.name = loader, module, name
        self.parts = None
        self.value = _UNBUILT


def _import(module: str, name: str):
    if not module or not name:
        raise ValueError(f"Object {name!r} of module {module!r} is unknown")
    return getattr(importlib.import_module(module), name)


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, trusted: frozenset, defaults: dict):
        self.archive = archive
        self.memo: dict = {}
        self.untrusted = False
        dtypes = defaults["NUMPY_DTYPE_TYPE_NAMES"]
        # per loader: what it trusts by default, plus the caller's names
        self.trust = {
            "ObjectNode": defaults["SKLEARN_ESTIMATOR_TYPE_NAMES"]
            | defaults["SKLEARN_INTERNAL_TYPE_NAMES"] | trusted,
            "DictNode": frozenset({"builtins.dict", "collections.OrderedDict"}) | trusted,
            "ListNode": frozenset({"builtins.list"}) | trusted,
            "SetNode": frozenset({"builtins.set"}) | trusted,
            "TupleNode": frozenset({"builtins.tuple"}) | trusted,
            "TypeNode": frozenset(_PRIMITIVES + _CONTAINERS) | dtypes | trusted,
            "NdArrayNode": frozenset({"numpy.ndarray"}) | dtypes | trusted,
        }

    # -- reading the tree (no imports, nothing built) --------------------------------------
    def node(self, state) -> _Node:
        if not isinstance(state, dict):
            raise _Unsupported
        saved_id = state.get("__id__")
        if saved_id in self.memo:
            return self.memo[saved_id]
        loader = state["__loader__"]
        node = _Node(loader, state["__module__"], state["__class__"])
        if saved_id:
            self.memo[saved_id] = node
        if loader == "JsonNode":  # plain values and slices: skops trusts them always
            node.parts = state["content"]
            return node
        if loader == "SliceNode":
            bounds = state["content"]
            node.parts = (bounds["start"], bounds["stop"], bounds["step"])
            return node
        if loader not in self.trust:
            raise _Unsupported
        if f"{node.module}.{node.name}" not in self.trust[loader]:
            self.untrusted = True
        read = getattr(self, "_read_" + loader)
        node.parts = read(state)
        return node

    def _read_ObjectNode(self, state):
        content = state.get("content")
        return None if content is None else self.node(content)

    def _read_DictNode(self, state):
        key_types = self.node(state["key_types"])
        content = {key: self.node(value) for key, value in state["content"].items()}
        return key_types, content

    def _read_ListNode(self, state):
        return [self.node(value) for value in state["content"]]

    _read_SetNode = _read_TupleNode = _read_ListNode

    def _read_TypeNode(self, state):
        return None

    def _read_NdArrayNode(self, state):
        kind = state["type"]
        if kind == "numpy":
            return kind, io.BytesIO(self.archive.read(state["file"]))
        if kind == "json":
            items = [self.node(value) for value in state["content"]]
            return kind, (items, self.node(state["shape"]))
        raise _Unsupported

    # -- building the objects ------------------------------------------------------------
    def build(self, node: _Node):
        if node.value is not _UNBUILT:
            return node.value
        node.value = getattr(self, "_build_" + node.loader)(node)
        return node.value

    def _build_JsonNode(self, node):
        return json.loads(node.parts)

    def _build_SliceNode(self, node):
        return slice(*node.parts)

    def _build_ObjectNode(self, node):
        cls = _import(node.module, node.name)
        # Like skops (and pickle): no __init__, then the saved attributes.
        instance = cls.__new__(cls)
        if node.parts is None:
            return instance
        attrs = self.build(node.parts)
        if attrs is not None:
            if hasattr(instance, "__setstate__"):
                instance.__setstate__(attrs)
            else:
                instance.__dict__.update(attrs)
        return instance

    def _build_DictNode(self, node):
        key_types, content = node.parts
        result = _import(node.module, node.name)()
        for key_type, (key, value) in zip(self.build(key_types), content.items()):
            result[key_type(key)] = self.build(value)
        return result

    def _build_ListNode(self, node):
        return _import(node.module, node.name)([self.build(item) for item in node.parts])

    _build_SetNode = _build_ListNode

    def _build_TupleNode(self, node):
        cls = _import(node.module, node.name)
        values = tuple(self.build(item) for item in node.parts)
        return cls(*values) if _is_namedtuple(cls) else values

    def _build_TypeNode(self, node):
        return _import(node.module, node.name)

    def _build_NdArrayNode(self, node):
        import numpy as np

        kind, data = node.parts
        if kind == "numpy":
            array = np.load(data, allow_pickle=False)
            if f"{node.module}.{node.name}" != "numpy.ndarray":
                array = _import(node.module, node.name)(array)
            return array
        items, shape_node = data
        shape = self.build(shape_node)
        values = [self.build(item) for item in items]
        if len(shape) == 1:  # one dimension: fill an object array (np.array would nest)
            array = np.ndarray(shape=len(values), dtype="O")
            for i, value in enumerate(values):
                array[i] = value
            return array
        return np.array(values, dtype="O")


def _is_namedtuple(cls) -> bool:
    bases = cls.__bases__
    if len(bases) != 1 or bases[0] is not tuple:
        return False
    fields = getattr(cls, "_fields", None)
    return isinstance(fields, tuple) and all(isinstance(f, str) for f in fields)


def _skops_version_matches() -> bool:
    try:
        import skops
    except ImportError:
        return False
    return skops.__version__.startswith(_SKOPS_SERIES)


def load(path: str, trusted):
    """The object in the skops file at ``path``, or ``NOT_HANDLED``."""
    if trusted is not None and not (isinstance(trusted, (list, tuple))
                                    and all(isinstance(t, str) for t in trusted)):
        return NOT_HANDLED
    if not _skops_version_matches():
        return NOT_HANDLED
    from skiff_flavor_sklearn._skops_trust import cached_defaults

    defaults = cached_defaults()
    if defaults is None:
        return NOT_HANDLED
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
            protocol = schema.get("protocol") if isinstance(schema, dict) else None
            if type(protocol) is not int or protocol != _PROTOCOL:
                return NOT_HANDLED
            reader = _Reader(archive, frozenset(trusted or ()), defaults)
            root = reader.node(schema)
    except (_Unsupported, KeyError, TypeError, ValueError, AttributeError, OSError,
            zipfile.BadZipFile, RecursionError):
        return NOT_HANDLED
    if reader.untrusted:
        return NOT_HANDLED
    return reader.build(root)
