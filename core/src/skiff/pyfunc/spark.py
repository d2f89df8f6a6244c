"""Batch scoring on Spark: ``spark_udf(spark, model_uri, result_type)`` is a pandas UDF that
scores each Arrow batch with the model, loaded once per Python worker.

    predict = skiff.pyfunc.spark_udf(spark, "models:/iris/1", result_type="long")
    df.withColumn("prediction", predict("a", "b"))      # columns by name
    df.withColumn("prediction", predict(struct("a", "b")))
    df.withColumn("prediction", predict())               # the signature's input columns

The model is copied to a local directory on the driver and shipped to the executors with
``SparkContext.addFile``; on a local master the executors read it in place.
"""

from __future__ import annotations

import os

from skiff.errors import SkiffException

_MODELS: dict[str, object] = {}  # model directory -> loaded model, per Python worker

_NUMPY_DTYPES = {
    "double": "float64", "float": "float32", "long": "int64", "bigint": "int64",
    "integer": "int32", "int": "int32", "short": "int16", "byte": "int8",
    "boolean": "bool", "string": "str",
}


def _loaded(path: str):
    model = _MODELS.get(path)
    if model is None:
        from skiff.pyfunc.loading import load_model

        model = _MODELS[path] = load_model(path)
    return model


def _model_dir_on_worker(local_dir: str, shipped_name: str | None) -> str:
    if os.path.isdir(local_dir):
        return local_dir
    if shipped_name:
        from pyspark import SparkFiles

        return SparkFiles.get(shipped_name)
    raise SkiffException(f"The model directory {local_dir} is not visible on this worker",
                         "INTERNAL_ERROR")


def _frame_from_batch(batch, names):
    import pandas as pd

    if isinstance(batch, pd.DataFrame):  # one struct column
        return batch
    series = list(batch) if isinstance(batch, tuple) else [batch]
    if names is None or len(names) != len(series):
        names = list(range(len(series)))
    return pd.DataFrame({name: s.reset_index(drop=True) for name, s in zip(names, series)})


def _as_result(predictions, result_type, rows: int):
    """Model output shaped as the UDF's declared return type: a Series, or a DataFrame for
    a struct."""
    import numpy as np
    import pandas as pd
    from pyspark.sql.types import ArrayType, StructType

    if isinstance(result_type, StructType):
        names = [f.name for f in result_type.fields]
        if isinstance(predictions, dict):
            predictions = pd.DataFrame(predictions)
        if not isinstance(predictions, pd.DataFrame):
            predictions = pd.DataFrame(np.asarray(predictions).reshape(rows, -1))
            predictions.columns = names[:predictions.shape[1]]
        missing = [n for n in names if n not in predictions.columns]
        if missing:
            raise SkiffException.invalid_parameter_value(
                f"The model's output has no column(s) {missing} for result_type "
                f"{result_type.simpleString()}; it has {list(predictions.columns)}")
        return predictions[names].reset_index(drop=True)
    if isinstance(result_type, ArrayType):
        if isinstance(predictions, pd.DataFrame):
            return pd.Series(predictions.values.tolist())
        return pd.Series([np.asarray(row).tolist() for row in predictions])
    if isinstance(predictions, pd.DataFrame):
        predictions = predictions.iloc[:, 0]
    series = pd.Series(np.asarray(predictions).reshape(rows) if not isinstance(
        predictions, pd.Series) else predictions.reset_index(drop=True))
    dtype = _NUMPY_DTYPES.get(result_type.simpleString())
    if dtype == "str":
        return series.astype(str)
    if dtype is not None:
        try:
            return series.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise SkiffException.invalid_parameter_value(
                f"The model's output ({series.dtype}) cannot be returned as "
                f"{result_type.simpleString()}: {exc}") from exc
    return series


def _parse_result_type(spark, result_type):
    from pyspark.sql.types import DataType

    if isinstance(result_type, DataType):
        return result_type
    try:
        return spark.createDataFrame([], f"__result {result_type}").schema.fields[0].dataType
    except Exception as exc:  # noqa: BLE001 - Spark's parser error, reported in one line
        raise SkiffException.invalid_parameter_value(
            f"result_type {result_type!r} is not a Spark SQL type (e.g. 'double', "
            f"'array<double>', 'struct<a: double, b: long>'): {exc}") from exc


def spark_udf(spark, model_uri, result_type="double", env_manager: str = "local",
              params: dict | None = None, extra_env: dict | None = None):
    """A Spark UDF that scores with the ``python_function`` model at ``model_uri``.

    ``result_type`` is a Spark SQL type or its DDL string (``"double"``, ``"long"``,
    ``"string"``, ``"array<double>"``, ``"struct<...>"``). Call the UDF with column names,
    Column objects, one struct column, or nothing (the model signature's input columns)."""
    import tempfile

    from pyspark.sql.functions import col, pandas_udf

    from skiff.models.model import Model
    from skiff.models.saving import download_model

    if env_manager not in (None, "local"):
        raise SkiffException.invalid_parameter_value(
            f"spark_udf runs the model in the Spark workers' own Python; env_manager="
            f"{env_manager!r} is not supported (use 'local' and install the model's "
            "requirements on the cluster)")
    local_dir = download_model(model_uri, tempfile.mkdtemp(prefix="skiff-spark-model-"))
    meta = Model.load(local_dir)
    if "python_function" not in meta.flavors:
        raise SkiffException.invalid_parameter_value(
            f"The model at {model_uri} has no python_function flavor")
    schema = meta.get_input_schema()
    schema_names = schema.input_names() if schema is not None and schema.has_input_names() \
        else None
    return_type = _parse_result_type(spark, result_type)
    shipped = _ship(spark, local_dir)
    env = dict(extra_env or {})

    def make(names):
        def score(batches):
            for key, value in env.items():
                os.environ.setdefault(key, value)
            model = _loaded(_model_dir_on_worker(local_dir, shipped))
            for batch in batches:
                frame = _frame_from_batch(batch, names)
                yield _as_result(model.predict(frame, params=params), return_type, len(frame))

        import warnings

        from pyspark.sql.functions import PandasUDFType

        # The UDF type is explicit because one function serves Series, tuples of Series and
        # struct DataFrames; Spark's advice to use type hints instead does not apply.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*type hints for pandas UDF.*")
            return pandas_udf(score, return_type, PandasUDFType.SCALAR_ITER)

    def udf(*columns):
        if not columns:
            if not schema_names:
                raise SkiffException.invalid_parameter_value(
                    "Call the UDF with the input columns: the model's signature names none")
            return make(schema_names)(*[col(n) for n in schema_names])
        if all(isinstance(c, str) for c in columns):
            return make(list(columns))(*columns)
        return make(schema_names)(*columns)

    udf.model_uri = model_uri
    udf.returnType = return_type
    udf.metadata = meta
    return udf


def _ship(spark, local_dir: str) -> str | None:
    """Send the model directory to the executors; None on a local master (they share this
    file system) or where the session cannot ship files (Spark Connect)."""
    try:
        context = spark.sparkContext
        if context.master.startswith("local"):
            return None
        context.addFile(local_dir, recursive=True)
        return os.path.basename(local_dir.rstrip("/"))
    except Exception:  # noqa: BLE001 - no SparkContext (Spark Connect): read in place
        return None
