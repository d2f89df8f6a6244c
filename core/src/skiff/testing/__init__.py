"""Test support for Skiff and its plugins, installed as the pytest plugin ``skiff``:
fixtures (``fixtures.py``), contract suites every store plugin runs (``contracts/``), and
helpers that build throwaway virtualenvs and start real servers."""
