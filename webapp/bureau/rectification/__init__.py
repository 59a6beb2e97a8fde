"""Rectification (整改): tasks from failed items, their ledger, and the steps that bring them to closure."""
