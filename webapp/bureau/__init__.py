"""The bureau (督导室): review visits, follow rectification to closure, compliance, reports, audit."""
