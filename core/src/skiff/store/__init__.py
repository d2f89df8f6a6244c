"""Store interfaces (what a tracking or registry store plugin implements) and the REST store."""
