"""skiff.pyfunc.spark_udf in a local SparkSession (one session, one worker)."""

from __future__ import annotations

import pytest


def test_spark_udf_scores_like_the_model(iris, monkeypatch):
    import sys

    pytest.importorskip("pyspark")
    pytest.importorskip("pyarrow")
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import col, struct

    import skiff.pyfunc

    path, X, expected = iris
    # The Python workers must be this interpreter (the one with Skiff installed).
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    spark = (SparkSession.builder.master("local[1]").appName("skiff-spark-udf-test")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    try:
        rows = X.head(30)
        frame = spark.createDataFrame(rows)
        predict = skiff.pyfunc.spark_udf(spark, path, result_type="long")
        as_text = skiff.pyfunc.spark_udf(spark, path, result_type="string")
        cols = list(rows.columns)
        out = frame.select(
            predict(*cols).alias("by_name"),
            predict().alias("by_signature"),
            predict(struct(*[col(f"`{c}`") for c in cols])).alias("by_struct"),
            as_text(*cols).alias("as_text"),
        ).toPandas()
        assert out["by_name"].tolist() == expected[:30]
        assert out["by_signature"].tolist() == expected[:30]
        assert out["by_struct"].tolist() == expected[:30]
        assert out["as_text"].tolist() == [str(v) for v in expected[:30]]
        with pytest.raises(Exception, match="not a Spark SQL type"):
            skiff.pyfunc.spark_udf(spark, path, result_type="no such type")
    finally:
        spark.stop()
