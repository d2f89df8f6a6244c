"""Entry point of skiff-flavor-pytorch: registers the ``pytorch`` flavor."""

from skiff.plugins import hookimpl


@hookimpl
def register_flavors(register):
    register("pytorch", "skiff_flavor_pytorch")
