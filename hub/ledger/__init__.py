"""Ledger port and backends: the embedded hash-chained ledger, or Fabric."""
