"""Reviewing visits: the workbench and visits list, a visit's evidence, the accept/return decision."""
