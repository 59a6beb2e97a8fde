"""The audit log: every change to a visit, photo, review or task, recorded and never edited."""
