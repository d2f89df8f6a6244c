"""Run inputs (datasets, logged models) and outputs (logged models).

Datasets live once per experiment in ``<exp>/datasets/<md5(name+digest)>/meta.yaml``; a run
points at them from ``<run>/inputs/<md5(dataset_id+run_id)>/meta.yaml``. Outputs are
``<run>/outputs/<model_id>/meta.yaml``. Logging the same input twice changes nothing.
"""

from __future__ import annotations

import os

from skiff.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    ModelInput,
    ModelOutput,
    RunInputs,
    RunOutputs,
)
from skiff.validation import validate_dataset_input
from skiff_stores_file import _files, _layout
from skiff_stores_file._base import StoreBase, warn_once
from skiff_stores_file._files import META, CorruptFileError


def _dataset_meta(dataset: Dataset) -> dict:
    return {
        "digest": dataset.digest,
        "name": dataset.name,
        "profile": dataset.profile,
        "schema": dataset.schema,
        "source": dataset.source,
        "source_type": dataset.source_type,
    }


def _link_meta(source_type: str, source_id: str, destination_type: str, tags: dict,
               **extra) -> dict:
    # MLflow writes the source ID as destination_id too, and its reader of outputs relies
    # on it; the same is written here so both tools read each other's files.
    return {"destination_id": source_id, "destination_type": destination_type,
            "source_id": source_id, "source_type": source_type, "tags": tags, **extra}


class InputsMixin(StoreBase):
    def log_inputs(self, run_id, datasets=None, models=None) -> None:
        for dataset_input in datasets or []:
            validate_dataset_input(dataset_input)
        run_dir, _ = self._active_run(run_id)
        exp_dir = os.path.dirname(run_dir)
        inputs_dir = os.path.join(run_dir, _layout.INPUTS)
        for dataset_input in datasets or []:
            dataset = dataset_input.dataset
            ds_id = _layout.dataset_id(dataset.name, dataset.digest)
            ds_meta = os.path.join(exp_dir, _layout.DATASETS, ds_id, META)
            if not os.path.exists(ds_meta):
                _files.create_once(ds_meta, _files.dump_yaml(_dataset_meta(dataset)))
            link = os.path.join(inputs_dir, _layout.input_id(ds_id, run_id), META)
            if not os.path.exists(link):
                tags = {t.key: t.value for t in dataset_input.tags}
                _files.create_once(link, _files.dump_yaml(
                    _link_meta("DATASET", ds_id, "RUN", tags)))
        for model_input in models or []:
            model_id = model_input.model_id
            link = os.path.join(inputs_dir, _layout.input_id(model_id, run_id), META)
            if not os.path.exists(link):
                _files.create_once(link, _files.dump_yaml(
                    _link_meta("MODEL", model_id, "RUN", {})))

    def log_outputs(self, run_id, models) -> None:
        run_dir, _ = self._active_run(run_id)
        for output in models or []:
            model_id = output.model_id
            if not model_id or "/" in model_id or model_id.startswith("."):
                from skiff_stores_file._base import invalid

                raise invalid(f"Invalid model ID: {model_id!r}")
            path = os.path.join(run_dir, _layout.OUTPUTS, model_id, META)
            if not os.path.exists(path):
                _files.create_once(path, _files.dump_yaml(_link_meta(
                    "RUN_OUTPUT", model_id, "MODEL_OUTPUT", {}, step=int(output.step or 0))))

    def _read_link_metas(self, folder: str):
        for entry in _files.list_dirs(folder):
            try:
                yield entry.path, self._read_meta(entry.path)
            except FileNotFoundError:
                continue
            except CorruptFileError as exc:
                warn_once("Skipping %s: %s", entry.path, exc)

    def _read_inputs(self, run_dir: str) -> RunInputs:
        inputs = RunInputs()
        folder = os.path.join(run_dir, _layout.INPUTS)
        if not os.path.isdir(folder):
            return inputs
        datasets_dir = os.path.join(os.path.dirname(run_dir), _layout.DATASETS)
        for path, meta in self._read_link_metas(folder):
            kind = meta.get("source_type")
            source_id = str(meta.get("source_id") or "")
            if kind == "MODEL":
                inputs.model_inputs.append(ModelInput(source_id))
                continue
            if kind != "DATASET" or not source_id or "/" in source_id:
                continue
            try:
                ds = self._read_meta(os.path.join(datasets_dir, source_id))
                dataset = Dataset(name=str(ds["name"]), digest=str(ds["digest"]),
                                  source_type=str(ds.get("source_type") or ""),
                                  source=str(ds.get("source") or ""),
                                  schema=ds.get("schema"), profile=ds.get("profile"))
            except (FileNotFoundError, CorruptFileError, KeyError) as exc:
                warn_once("Run input %s names dataset %s, which is missing or unreadable "
                          "(%s); skipped", path, source_id, exc)
                continue
            tags = [InputTag(str(k), "" if v is None else str(v))
                    for k, v in (meta.get("tags") or {}).items()]
            inputs.dataset_inputs.append(DatasetInput(dataset, tags))
        return inputs

    def _read_outputs(self, run_dir: str) -> RunOutputs:
        outputs = RunOutputs()
        folder = os.path.join(run_dir, _layout.OUTPUTS)
        if not os.path.isdir(folder):
            return outputs
        for _, meta in self._read_link_metas(folder):
            if meta.get("destination_type") != "MODEL_OUTPUT":
                continue
            model_id = str(meta.get("destination_id") or meta.get("source_id"))
            outputs.model_outputs.append(ModelOutput(model_id, int(meta.get("step") or 0)))
        return outputs

    def _search_datasets(self, experiment_ids) -> list[dict]:
        """Distinct (experiment, dataset name, digest, context) used by runs of the given
        experiments, at most 1000, for the UI's dataset filter."""
        seen: dict[tuple, dict] = {}
        for experiment_id in dict.fromkeys(str(e) for e in experiment_ids or []):
            exp_dir = self._experiment_dir(experiment_id)
            if exp_dir is None:
                continue
            for run_dir, _ in self._iter_run_metas(exp_dir):
                for dataset_input in self._read_inputs(run_dir).dataset_inputs:
                    context = next((t.value for t in dataset_input.tags
                                    if t.key == "mlflow.data.context"), None)
                    key = (experiment_id, dataset_input.dataset.name,
                           dataset_input.dataset.digest, context)
                    if key not in seen:
                        seen[key] = {"experiment_id": experiment_id,
                                     "name": key[1], "digest": key[2], "context": context}
                        if len(seen) >= 1000:
                            return list(seen.values())
        return [{k: v for k, v in s.items() if v is not None} for s in seen.values()]
