"""Notices: the in-app inbox of every role, the daily deadline job and the notifier channels."""
