"""Contract suites: classes of tests a plugin's test module subclasses, supplying a
``store`` (or ``repository``) fixture. The same suite runs against every implementation."""
