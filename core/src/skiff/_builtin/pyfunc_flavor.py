"""Built-in plugin: the ``pyfunc`` flavor (``skiff.pyfunc``), registered like any other."""

from skiff.plugins import hookimpl


@hookimpl(trylast=True)
def register_flavors(register):
    register("pyfunc", "skiff.pyfunc")
