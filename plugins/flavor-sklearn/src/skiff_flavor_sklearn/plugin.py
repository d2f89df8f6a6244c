"""Entry point of skiff-flavor-sklearn: registers the ``sklearn`` flavor."""

from skiff.plugins import hookimpl


@hookimpl
def register_flavors(register):
    register("sklearn", "skiff_flavor_sklearn")
