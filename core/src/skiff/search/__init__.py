"""MLflow's search grammar, parsed once for every store.

``parser`` turns filter strings and order-by clauses into :mod:`skiff.search.ast`
objects; ``evaluate`` applies them to entities in Python (the file store); the SQL store
compiles the same objects into SQL.
"""
