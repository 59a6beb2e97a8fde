"""Compliance across schools: the school × item matrix, cross-county comparison, the term summary, quotas."""
