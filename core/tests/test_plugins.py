"""The plugin manager: loading policy, broken and blocked plugins, conflicts, hints."""

import types
from importlib.metadata import EntryPoint

import pytest

from skiff import hookspecs, plugins
from skiff.errors import PluginConflictError, UnsupportedURIError
from skiff.plugins import hookimpl


def _plugin(name, **hooks):
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, hookimpl(fn))
    return module


def _fake_entry_points(monkeypatch, mapping):
    """Make the `skiff` entry-point group list these name -> module-path entries."""
    eps = [EntryPoint(name, value, "skiff") for name, value in mapping.items()]
    monkeypatch.setattr(plugins, "_entry_points", lambda: eps)


def test_every_hook_has_a_docstring_saying_what_it_returns():
    names = [n for n in dir(hookspecs) if not n.startswith("_") and callable(getattr(hookspecs, n))
             and hasattr(getattr(hookspecs, n), "skiff_spec")]
    assert {"register_tracking_stores", "register_artifact_repositories", "register_flavors",
            "register_commands", "run_context_tags", "request_headers"} <= set(names)
    for name in names:
        doc = getattr(hookspecs, name).__doc__ or ""
        assert "Called" in doc, name
        assert "Return" in doc or "return" in doc, name


def test_manager_is_built_on_first_use_not_at_import():
    plugins.set_plugin_manager(None)
    assert plugins._manager is None
    manager = plugins.get_plugin_manager()
    assert manager is plugins.get_plugin_manager()


def test_builtins_register_through_the_same_hooks():
    registries = plugins.get_registries()
    assert registries.artifact_repositories.plugin_for("file") == "skiff._builtin.local_artifacts"
    assert registries.tracking_stores.plugin_for("http") == "skiff._builtin.rest_store"


def test_conflicting_schemes_name_both_plugins():
    manager = plugins.make_plugin_manager(entrypoints=False)
    manager.register(_plugin("plugin_one", register_tracking_stores=lambda register:
                             register("memo", object)), "plugin_one")
    manager.register(_plugin("plugin_two", register_tracking_stores=lambda register:
                             register("memo", object)), "plugin_two")
    plugins.set_plugin_manager(manager)
    with pytest.raises(PluginConflictError) as err:
        plugins.get_registries()
    assert "plugin_one" in err.value.message and "plugin_two" in err.value.message


def test_unsupported_uri_names_the_distribution_to_install():
    from skiff.tracking._stores import get_tracking_store

    manager = plugins.make_plugin_manager(entrypoints=False)
    plugins.set_plugin_manager(manager)
    with pytest.raises(UnsupportedURIError) as err:
        get_tracking_store("postgresql://u@localhost/db")
    assert "install skiff-stores-sql" in err.value.message
    with pytest.raises(UnsupportedURIError) as err:
        from skiff.artifacts.resolve import get_artifact_repository

        get_artifact_repository("s3://bucket/x")
    assert "skiff-artifacts-s3" in err.value.message


def test_broken_plugin_is_recorded_and_others_still_load(monkeypatch, tmp_path):
    good = tmp_path / "good_plugin.py"
    good.write_text(
        "from skiff import hookimpl\n"
        "@hookimpl\n"
        "def register_tracking_stores(register):\n"
        "    register('good', object)\n")
    (tmp_path / "bad_plugin.py").write_text("import a_module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _fake_entry_points(monkeypatch, {"good": "good_plugin", "bad": "bad_plugin"})
    manager = plugins.make_plugin_manager()
    plugins.set_plugin_manager(manager)
    assert manager.records["bad"].status == "broken"
    assert "a_module_that_does_not_exist" in manager.records["bad"].error
    assert manager.records["good"].status == "loaded"
    assert "good" in plugins.get_registries().tracking_stores


@pytest.mark.parametrize("env, loaded", [
    ({"SKIFF_DISABLE_PLUGINS": "good"}, set()),
    ({"SKIFF_DISABLE_PLUGINS": "all"}, set()),
    ({"SKIFF_LOAD_PLUGINS": ""}, set()),
    ({"SKIFF_LOAD_PLUGINS": "good"}, {"good"}),
    ({}, {"good"}),
])
def test_load_and_disable_variables(monkeypatch, tmp_path, env, loaded):
    (tmp_path / "good_plugin2.py").write_text(
        "from skiff import hookimpl\n"
        "@hookimpl\n"
        "def register_tracking_stores(register):\n"
        "    register('good', object)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _fake_entry_points(monkeypatch, {"good": "good_plugin2"})
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    manager = plugins.make_plugin_manager()
    status = {n for n, r in manager.records.items() if r.status == "loaded" and not r.builtin}
    assert status == loaded
    if not loaded:
        assert manager.records["good"].status == "blocked"


def test_a_typo_in_a_hook_name_fails_loudly():
    from pluggy import PluginValidationError

    manager = plugins.make_plugin_manager(entrypoints=False)
    with pytest.raises(PluginValidationError):
        manager.register(_plugin("typo", register_tracking_storez=lambda register: None))
        manager.pm.check_pending()


def test_plugins_command_lists_broken_plugins(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from skiff.cli import build_cli

    (tmp_path / "broken_plugin3.py").write_text("raise ImportError('needs libfoo')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _fake_entry_points(monkeypatch, {"broken": "broken_plugin3"})
    result = CliRunner().invoke(build_cli(), ["plugins"])
    assert result.exit_code == 0
    assert "broken" in result.output and "needs libfoo" in result.output


def test_a_plugin_can_add_hookspecs_for_plugins_loaded_before_it(monkeypatch, tmp_path):
    (tmp_path / "guest_plugin.py").write_text(
        "from skiff import hookimpl\n"
        "@hookimpl\n"
        "def host_feature():\n"
        "    return 'guest'\n")
    (tmp_path / "host_specs.py").write_text(
        "import pluggy\n"
        "hookspec = pluggy.HookspecMarker('skiff')\n"
        "@hookspec\n"
        "def host_feature():\n"
        "    'Called by the host. Returns a string.'\n")
    (tmp_path / "host_plugin.py").write_text(
        "from skiff import hookimpl\n"
        "@hookimpl\n"
        "def add_hookspecs(pluginmanager):\n"
        "    import host_specs\n"
        "    pluginmanager.add_hookspecs(host_specs)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _fake_entry_points(monkeypatch, {"guest": "guest_plugin", "host": "host_plugin"})
    manager = plugins.make_plugin_manager()
    assert manager.hook.host_feature() == ["guest"]
