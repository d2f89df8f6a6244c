"""``gunicorn skiff_server.wsgi:app`` (or any WSGI server): the config comes from
``_SKIFF_SERVER_CONFIG`` (set by ``skiff server``) or the SKIFF_/MLFLOW_ variables."""

from skiff_server.app import create_app
from skiff_server.config import ServerConfig

app = create_app(ServerConfig.from_env())
