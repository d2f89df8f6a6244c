"""Capabilities that ship with core. Each module is a plugin registered through the same
hooks as external plugins (see ``skiff.plugins.BUILTIN_PLUGINS``)."""
