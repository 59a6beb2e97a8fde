"""The 督导室 home's figures: coverage, 达标率, 整改 over time, 教研员 quotas (tables and chart JSON)."""
