"""Latency and throughput harness: ``lsnet bench`` (targets, interleaved rounds, ratios, reports, plots)."""
