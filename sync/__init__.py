"""Offline sync: merge rules, photo checks and storage, free of Flask."""
