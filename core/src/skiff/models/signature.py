"""Model signatures: column, tensor and params schemas with MLflow's JSON shapes.

Inputs and outputs are stored in MLmodel as JSON strings (a list of specs); params as a list
of ``{"name", "type", "default", "shape"}``. numpy is imported only where a dtype is needed.
"""

from __future__ import annotations

import enum
import json

from skiff.errors import SkiffException


class DataType(enum.Enum):
    """Column types; the value is the name MLflow writes."""

    boolean = "boolean"
    integer = "integer"  # int32
    long = "long"  # int64
    float = "float"  # float32
    double = "double"  # float64
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self):
        import numpy as np

        return {
            "boolean": np.dtype("bool"), "integer": np.dtype("int32"),
            "long": np.dtype("int64"), "float": np.dtype("float32"),
            "double": np.dtype("float64"), "string": np.dtype("object"),
            "binary": np.dtype("object"), "datetime": np.dtype("datetime64[ns]"),
        }[self.value]

    def to_python(self):
        import datetime

        return {
            "boolean": bool, "integer": int, "long": int, "float": float, "double": float,
            "string": str, "binary": bytes, "datetime": datetime.datetime,
        }[self.value]


def _type_from_dict(d):
    """A column type from its JSON: a DataType name or an array/object/map/any dict."""
    if isinstance(d, str):
        return _data_type(d)
    kind = d.get("type")
    if kind == "array":
        return Array.from_dict(d)
    if kind == "object":
        return Object.from_dict(d)
    if kind == "map":
        return Map.from_dict(d)
    if kind == "any":
        return AnyType()
    return _data_type(kind)


def _data_type(name) -> DataType:
    try:
        return DataType[name]
    except KeyError:
        raise SkiffException.invalid_parameter_value(
            f"Unsupported type {name!r}: expected one of {[t.value for t in DataType]}, "
            "'array', 'object', 'map' or 'any'") from None


def _type_to_dict(t) -> dict:
    return {"type": t.value} if isinstance(t, DataType) else t.to_dict()


class AnyType:
    def to_dict(self) -> dict:
        return {"type": "any"}

    def __eq__(self, other):
        return isinstance(other, AnyType)

    def __repr__(self):
        return "Any"


class Array:
    def __init__(self, dtype):
        self.dtype = dtype

    def to_dict(self) -> dict:
        return {"type": "array", "items": _type_to_dict(self.dtype)}

    @classmethod
    def from_dict(cls, d):
        return cls(_type_from_dict(d["items"]) if "items" in d else AnyType())

    def __eq__(self, other):
        return isinstance(other, Array) and self.dtype == other.dtype

    def __repr__(self):
        return f"Array({self.dtype!r})"


class Property:
    def __init__(self, name: str, dtype, required: bool = True):
        self.name, self.dtype, self.required = name, dtype, required

    def to_dict(self) -> dict:
        return {self.name: {**_type_to_dict(self.dtype), "required": self.required}}

    def __eq__(self, other):
        return (isinstance(other, Property) and (self.name, self.dtype, self.required)
                == (other.name, other.dtype, other.required))


class Object:
    def __init__(self, properties: list[Property]):
        self.properties = sorted(properties, key=lambda p: p.name)

    def to_dict(self) -> dict:
        props = {}
        for p in self.properties:
            props.update(p.to_dict())
        return {"type": "object", "properties": props}

    @classmethod
    def from_dict(cls, d):
        return cls([Property(name, _type_from_dict(spec), spec.get("required", True))
                    for name, spec in d.get("properties", {}).items()])

    def __eq__(self, other):
        return isinstance(other, Object) and self.properties == other.properties

    def __repr__(self):
        return f"Object({[p.name for p in self.properties]})"


class Map:
    def __init__(self, value_type):
        self.value_type = value_type

    def to_dict(self) -> dict:
        return {"type": "map", "values": _type_to_dict(self.value_type)}

    @classmethod
    def from_dict(cls, d):
        return cls(_type_from_dict(d["values"]))

    def __eq__(self, other):
        return isinstance(other, Map) and self.value_type == other.value_type


class ColSpec:
    """One column: a type, an optional name, and whether it must be present."""

    def __init__(self, type, name: str | None = None, required: bool = True):  # noqa: A002
        self.type = _data_type(type) if isinstance(type, str) else type
        self.name = name
        self.required = required

    def to_dict(self) -> dict:
        d = _type_to_dict(self.type)
        if self.name is not None:
            d["name"] = self.name
        d["required"] = self.required
        return d

    def __eq__(self, other):
        return isinstance(other, ColSpec) and self.to_dict() == other.to_dict()

    def __repr__(self):
        name = f"{self.name!r}: " if self.name is not None else ""
        return f"{name}{self.type!r}{'' if self.required else ' (optional)'}"


class TensorSpec:
    """A tensor: numpy dtype, shape (-1 for a variable dimension), optional name."""

    def __init__(self, type, shape, name: str | None = None):  # noqa: A002
        import numpy as np

        self.type = np.dtype(type)
        self.shape = tuple(shape)
        self.name = name

    def to_dict(self) -> dict:
        d = {"type": "tensor", "tensor-spec": {"dtype": str(self.type),
                                               "shape": list(self.shape)}}
        if self.name is not None:
            d["name"] = self.name
        return d

    @property
    def required(self) -> bool:
        return True

    def __eq__(self, other):
        return isinstance(other, TensorSpec) and self.to_dict() == other.to_dict()

    def __repr__(self):
        name = f"{self.name!r}: " if self.name is not None else ""
        return f"{name}Tensor({str(self.type)!r}, {self.shape})"


class Schema:
    """An ordered list of ColSpec or of TensorSpec (never both)."""

    def __init__(self, inputs: list):
        inputs = list(inputs)
        kinds = {type(i) for i in inputs}
        if len(kinds) > 1:
            raise SkiffException.invalid_parameter_value(
                "A schema holds either column specs or tensor specs, not both")
        named = [i.name is not None for i in inputs]
        if any(named) and not all(named):
            raise SkiffException.invalid_parameter_value(
                "Either every entry of a schema has a name or none has")
        self.inputs = inputs

    def __iter__(self):
        return iter(self.inputs)

    def __len__(self):
        return len(self.inputs)

    def __eq__(self, other):
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __repr__(self):
        return "[" + ", ".join(repr(i) for i in self.inputs) + "]"

    def is_tensor_spec(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return bool(self.inputs) and self.inputs[0].name is not None

    def input_names(self) -> list:
        return [i.name if i.name is not None else idx for idx, i in enumerate(self.inputs)]

    def required_input_names(self) -> list:
        return [i.name if i.name is not None else idx
                for idx, i in enumerate(self.inputs) if i.required]

    def input_types(self) -> list:
        return [i.type for i in self.inputs]

    def numpy_types(self) -> list:
        return [i.type if isinstance(i, TensorSpec) else i.type.to_numpy() for i in self.inputs]

    def to_dict(self) -> list:
        return [i.to_dict() for i in self.inputs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text) -> Schema:
        items = json.loads(text) if isinstance(text, str) else text
        specs = []
        for item in items:
            if item.get("type") == "tensor":
                ts = item["tensor-spec"]
                specs.append(TensorSpec(ts["dtype"], ts["shape"], item.get("name")))
            else:
                specs.append(ColSpec(_type_from_dict(item), item.get("name"),
                                     item.get("required", True)))
        return cls(specs)


class ParamSpec:
    """One inference parameter: name, type, default and shape (None or (-1,))."""

    def __init__(self, name: str, dtype, default, shape=None):
        self.name = name
        self.dtype = _data_type(dtype) if isinstance(dtype, str) else dtype
        self.shape = tuple(shape) if shape is not None else None
        self.default = default

    def to_dict(self) -> dict:
        default = self.default
        if hasattr(default, "isoformat"):
            default = default.isoformat()
        # MLflow's key order, so the JSON strings in MLmodel compare equal.
        return {"name": self.name, "default": default,
                "shape": list(self.shape) if self.shape is not None else None,
                "type": self.dtype.value}

    def __eq__(self, other):
        return isinstance(other, ParamSpec) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"{self.name!r}: {self.dtype!r} (default: {self.default!r})"


class ParamSchema:
    def __init__(self, params: list[ParamSpec]):
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise SkiffException.invalid_parameter_value(f"Duplicate param names in {names}")
        self.params = list(params)

    def __iter__(self):
        return iter(self.params)

    def __len__(self):
        return len(self.params)

    def __eq__(self, other):
        return isinstance(other, ParamSchema) and self.params == other.params

    def __repr__(self):
        return repr(self.params)

    def to_dict(self) -> list:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text) -> ParamSchema:
        items = json.loads(text) if isinstance(text, str) else text
        return cls([ParamSpec(p["name"], p["type"], p.get("default"), p.get("shape"))
                    for p in items])


class ModelSignature:
    """What a model takes and returns; stored under ``signature`` in MLmodel."""

    def __init__(self, inputs=None, outputs=None, params=None):
        self.inputs = _as_schema(inputs)
        self.outputs = _as_schema(outputs)
        self.params = params

    def to_dict(self) -> dict:
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelSignature:
        inputs = Schema.from_json(d["inputs"]) if d.get("inputs") else None
        outputs = Schema.from_json(d["outputs"]) if d.get("outputs") else None
        params = ParamSchema.from_json(d["params"]) if d.get("params") else None
        return cls(inputs, outputs, params)

    def __eq__(self, other):
        return isinstance(other, ModelSignature) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return (f"inputs:\n  {self.inputs!r}\noutputs:\n  {self.outputs!r}\n"
                f"params:\n  {self.params!r}\n")


def _as_schema(value):
    if value is None or isinstance(value, Schema):
        return value
    return Schema(value)
