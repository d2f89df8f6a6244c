"""Skiff plugin entry point of the tracking UI: mounts its blueprint on ``skiff server``."""

from skiff.plugins import hookimpl


# optionalhook: the spec comes from skiff_server.hookspecs, added when an app is built.
@hookimpl(optionalhook=True)
def register_blueprints(register):
    from skiff_server.ui.blueprint import build_blueprint

    register(build_blueprint())
