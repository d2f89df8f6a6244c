"""``search_runs`` results as a pandas DataFrame with MLflow's columns."""

from __future__ import annotations


def runs_to_frame(runs):
    import pandas as pd

    info_cols = {"run_id": [], "experiment_id": [], "status": [], "artifact_uri": [],
                 "start_time": [], "end_time": []}
    metrics, params, tags = {}, {}, {}
    for i, run in enumerate(runs):
        info = run.info
        info_cols["run_id"].append(info.run_id)
        info_cols["experiment_id"].append(info.experiment_id)
        info_cols["status"].append(info.status)
        info_cols["artifact_uri"].append(info.artifact_uri)
        info_cols["start_time"].append(info.start_time)
        info_cols["end_time"].append(info.end_time)
        for source, target in ((run.data.metrics, metrics), (run.data.params, params),
                               (run.data.tags, tags)):
            for key, value in source.items():
                target.setdefault(key, [None] * len(runs))[i] = value
    frame = {**info_cols}
    frame["start_time"] = pd.to_datetime(frame["start_time"], unit="ms", utc=True)
    frame["end_time"] = pd.to_datetime(frame["end_time"], unit="ms", utc=True)
    for prefix, cols in (("metrics", metrics), ("params", params), ("tags", tags)):
        for key in sorted(cols):
            values = cols[key]
            frame[f"{prefix}.{key}"] = (
                [float("nan") if v is None else v for v in values] if prefix == "metrics"
                else values)
    return pd.DataFrame(frame)
