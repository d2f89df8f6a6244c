"""A ``pickle_module`` for ``torch.save``/``torch.load`` that pickles with cloudpickle, so
classes defined in ``__main__`` or a notebook survive. MLflow's own module of this kind is
``mlflow.pytorch.pickle_module``; files name that module so MLflow loads them, and Skiff
maps the name back here."""

from pickle import HIGHEST_PROTOCOL, Unpickler, load, loads  # noqa: F401  (torch.load's API)

from cloudpickle import CloudPickler as Pickler  # noqa: F401  (torch.save builds a Pickler)
from cloudpickle import dump, dumps  # noqa: F401
