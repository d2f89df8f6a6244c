"""Built-in plugin: the ``local`` project backend and the environment managers local,
virtualenv, uv, conda and docker."""

from skiff.plugins import hookimpl


def _local_backend():
    from skiff.projects.backend import LocalBackend

    return LocalBackend()


def _manager(module: str, cls: str):
    def factory():
        import importlib

        return getattr(importlib.import_module(module), cls)()

    return factory


@hookimpl(trylast=True)
def register_project_backends(register):
    register("local", _local_backend)


@hookimpl(trylast=True)
def register_env_managers(register):
    register("local", _manager("skiff.projects.envs", "LocalEnvManager"))
    register("virtualenv", _manager("skiff.projects.envs", "VirtualenvEnvManager"))
    register("uv", _manager("skiff.projects.envs", "UvEnvManager"))
    register("conda", _manager("skiff.projects._conda", "CondaEnvManager"))
    register("docker", _manager("skiff.projects._docker", "DockerEnvManager"))
