"""The registry store for ``http(s)://`` registry URIs: MLflow's model-registry REST API,
spoken to a Skiff or an MLflow tracking server. Same transport as :mod:`skiff.store.rest`
(session, retries, auth and TLS from :mod:`skiff.store._http`)."""

from __future__ import annotations

from skiff.entities import ModelVersion, PagedList, RegisteredModel
from skiff.store._http import HttpSettings, call_json
from skiff.store.registry import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
    RegistryStore,
)

API = "/api/2.0/mlflow"


def _tags(tags) -> list[dict] | None:
    """Tags given as objects with key/value, or as a dict; None when there are none."""
    if not tags:
        return None
    if isinstance(tags, dict):
        return [{"key": str(k), "value": str(v)} for k, v in tags.items()]
    return [{"key": t.key, "value": t.value} for t in tags]


class RestRegistryStore(RegistryStore):
    """A registry store that forwards every call to a tracking server."""

    def __init__(self, store_uri: str, tracking_uri: str | None = None):
        super().__init__(store_uri, tracking_uri)
        self._settings: HttpSettings | None = None

    @property
    def settings(self) -> HttpSettings:
        if self._settings is None:
            self._settings = HttpSettings(self.store_uri)
        return self._settings

    def _call(self, method: str, endpoint: str, body: dict | None = None) -> dict:
        clean = {k: v for k, v in (body or {}).items() if v is not None}
        return call_json(self.settings, method, API + endpoint, clean)

    @staticmethod
    def _model(answer: dict) -> RegisteredModel:
        return RegisteredModel.from_dict(answer["registered_model"])

    @staticmethod
    def _version(answer: dict) -> ModelVersion:
        return ModelVersion.from_dict(answer["model_version"])

    # -- registered models ---------------------------------------------------------------
    def create_registered_model(self, name, tags=None, description=None):
        body = {"name": name, "tags": _tags(tags), "description": description}
        return self._model(self._call("POST", "/registered-models/create", body))

    def update_registered_model(self, name, description):
        body = {"name": name, "description": description}
        return self._model(self._call("PATCH", "/registered-models/update", body))

    def rename_registered_model(self, name, new_name):
        body = {"name": name, "new_name": new_name}
        return self._model(self._call("POST", "/registered-models/rename", body))

    def delete_registered_model(self, name):
        self._call("DELETE", "/registered-models/delete", {"name": name})

    def get_registered_model(self, name):
        return self._model(self._call("GET", "/registered-models/get", {"name": name}))

    def search_registered_models(self, filter_string=None,
                                 max_results=SEARCH_REGISTERED_MODEL_MAX_RESULTS_DEFAULT,
                                 order_by=None, page_token=None):
        body = {"filter": filter_string or None, "max_results": max_results,
                "order_by": list(order_by or []) or None, "page_token": page_token or None}
        answer = self._call("GET", "/registered-models/search", body)
        items = [RegisteredModel.from_dict(m) for m in answer.get("registered_models", [])]
        return PagedList(items, answer.get("next_page_token"))

    def get_latest_versions(self, name, stages=None):
        body = {"name": name, "stages": list(stages or []) or None}
        answer = self._call("POST", "/registered-models/get-latest-versions", body)
        return [ModelVersion.from_dict(v) for v in answer.get("model_versions", [])]

    def set_registered_model_tag(self, name, tag):
        self._call("POST", "/registered-models/set-tag",
                   {"name": name, "key": tag.key, "value": tag.value})

    def delete_registered_model_tag(self, name, key):
        self._call("DELETE", "/registered-models/delete-tag", {"name": name, "key": key})

    # -- versions -------------------------------------------------------------------------
    def create_model_version(self, name, source, run_id=None, tags=None, run_link=None,
                             description=None, model_id=None):
        body = {"name": name, "source": source, "run_id": run_id or None,
                "tags": _tags(tags), "run_link": run_link or None,
                "description": description, "model_id": model_id or None}
        return self._version(self._call("POST", "/model-versions/create", body))

    def update_model_version(self, name, version, description):
        body = {"name": name, "version": str(version), "description": description}
        return self._version(self._call("PATCH", "/model-versions/update", body))

    def transition_model_version_stage(self, name, version, stage,
                                       archive_existing_versions=False):
        body = {"name": name, "version": str(version), "stage": stage,
                "archive_existing_versions": bool(archive_existing_versions)}
        return self._version(self._call("POST", "/model-versions/transition-stage", body))

    def delete_model_version(self, name, version):
        self._call("DELETE", "/model-versions/delete", {"name": name, "version": str(version)})

    def get_model_version(self, name, version):
        body = {"name": name, "version": str(version)}
        return self._version(self._call("GET", "/model-versions/get", body))

    def get_model_version_download_uri(self, name, version):
        body = {"name": name, "version": str(version)}
        return self._call("GET", "/model-versions/get-download-uri", body)["artifact_uri"]

    def search_model_versions(self, filter_string=None,
                              max_results=SEARCH_MODEL_VERSION_MAX_RESULTS_DEFAULT,
                              order_by=None, page_token=None):
        body = {"filter": filter_string or None, "max_results": max_results,
                "order_by": list(order_by or []) or None, "page_token": page_token or None}
        answer = self._call("GET", "/model-versions/search", body)
        items = [ModelVersion.from_dict(v) for v in answer.get("model_versions", [])]
        return PagedList(items, answer.get("next_page_token"))

    def set_model_version_tag(self, name, version, tag):
        self._call("POST", "/model-versions/set-tag",
                   {"name": name, "version": str(version), "key": tag.key,
                    "value": tag.value})

    def delete_model_version_tag(self, name, version, key):
        self._call("DELETE", "/model-versions/delete-tag",
                   {"name": name, "version": str(version), "key": key})

    # -- aliases ---------------------------------------------------------------------------
    def set_registered_model_alias(self, name, alias, version):
        self._call("POST", "/registered-models/alias",
                   {"name": name, "alias": alias, "version": str(version)})

    def delete_registered_model_alias(self, name, alias):
        self._call("DELETE", "/registered-models/alias", {"name": name, "alias": alias})

    def get_model_version_by_alias(self, name, alias):
        body = {"name": name, "alias": alias}
        return self._version(self._call("GET", "/registered-models/alias", body))
