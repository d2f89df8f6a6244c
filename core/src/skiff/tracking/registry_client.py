"""The model-registry methods of ``Client`` (MLflow's names), delegated to the registry
store for the client's registry URI. Each function takes the client first; ``Client``
binds them as methods."""

from __future__ import annotations

from skiff.entities import RunTag
from skiff.entities.registry import ALL_STAGES
from skiff.errors import SkiffException


def _store(client):
    from skiff.tracking._stores import get_registry_store

    return get_registry_store(client._registry_uri, client._tracking_uri)


def _tags(tags):
    return [RunTag(str(k), str(v)) for k, v in (tags or {}).items()]


def create_registered_model(client, name, tags=None, description=None):
    return _store(client).create_registered_model(name, _tags(tags), description)


def rename_registered_model(client, name, new_name):
    return _store(client).rename_registered_model(name, new_name)


def update_registered_model(client, name, description=None):
    return _store(client).update_registered_model(name, description)


def delete_registered_model(client, name):
    _store(client).delete_registered_model(name)


def get_registered_model(client, name):
    return _store(client).get_registered_model(name)


def search_registered_models(client, filter_string=None, max_results=100, order_by=None,
                             page_token=None):
    return _store(client).search_registered_models(filter_string, max_results, order_by,
                                                   page_token)


def get_latest_versions(client, name, stages=None):
    return _store(client).get_latest_versions(name, stages)


def set_registered_model_tag(client, name, key, value):
    _store(client).set_registered_model_tag(name, RunTag(key, str(value)))


def delete_registered_model_tag(client, name, key):
    _store(client).delete_registered_model_tag(name, key)


def create_model_version(client, name, source, run_id=None, tags=None, run_link=None,
                         description=None, await_creation_for=300, model_id=None):
    return _store(client).create_model_version(name, source, run_id, _tags(tags), run_link,
                                               description, model_id)


def update_model_version(client, name, version, description=None):
    return _store(client).update_model_version(name, str(version), description)


def transition_model_version_stage(client, name, version, stage,
                                   archive_existing_versions=False):
    return _store(client).transition_model_version_stage(name, str(version), stage,
                                                         archive_existing_versions)


def delete_model_version(client, name, version):
    _store(client).delete_model_version(name, str(version))


def get_model_version(client, name, version):
    return _store(client).get_model_version(name, str(version))


def get_model_version_download_uri(client, name, version):
    return _store(client).get_model_version_download_uri(name, str(version))


def get_model_version_stages(client, name, version):
    return list(ALL_STAGES)


def search_model_versions(client, filter_string=None, max_results=10000, order_by=None,
                          page_token=None):
    return _store(client).search_model_versions(filter_string, max_results, order_by,
                                                page_token)


def _version_for(client, name, version, stage):
    if version is None and stage is None:
        raise SkiffException.invalid_parameter_value("Either version or stage must be given.")
    if version is not None and stage is not None:
        raise SkiffException.invalid_parameter_value("Give version or stage, not both.")
    if stage is not None:
        latest = get_latest_versions(client, name, [stage])
        if not latest:
            raise SkiffException(f"No model version of {name!r} is in stage {stage!r}",
                                 "RESOURCE_DOES_NOT_EXIST")
        return latest[0].version
    return str(version)


def set_model_version_tag(client, name, version=None, key=None, value=None, stage=None):
    version = _version_for(client, name, version, stage)
    _store(client).set_model_version_tag(name, version, RunTag(key, str(value)))


def delete_model_version_tag(client, name, version=None, key=None, stage=None):
    version = _version_for(client, name, version, stage)
    _store(client).delete_model_version_tag(name, version, key)


def set_registered_model_alias(client, name, alias, version):
    _store(client).set_registered_model_alias(name, alias, str(version))


def delete_registered_model_alias(client, name, alias):
    _store(client).delete_registered_model_alias(name, alias)


def get_model_version_by_alias(client, name, alias):
    return _store(client).get_model_version_by_alias(name, alias)


def copy_model_version(client, src_model_uri, dst_name):
    """Copy the version named by a ``models:/name/version`` (or @alias / stage) URI to a new
    version of ``dst_name``."""
    from skiff.models_uri import get_model_version_from_uri

    src = get_model_version_from_uri(src_model_uri, client._registry_uri, client._tracking_uri)
    return _store(client).copy_model_version(src, dst_name)


__all__ = [
    "copy_model_version", "create_model_version", "create_registered_model",
    "delete_model_version", "delete_model_version_tag", "delete_registered_model",
    "delete_registered_model_alias", "delete_registered_model_tag", "get_latest_versions",
    "get_model_version", "get_model_version_by_alias", "get_model_version_download_uri",
    "get_model_version_stages", "get_registered_model", "rename_registered_model",
    "search_model_versions", "search_registered_models", "set_model_version_tag",
    "set_registered_model_alias", "set_registered_model_tag", "transition_model_version_stage",
    "update_model_version", "update_registered_model",
]
