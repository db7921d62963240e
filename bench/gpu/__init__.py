"""The GPU proof run: one prepared command (``bench/gpu/run.sh``) that runs the ``gpu``-marked tests and
measures the paper's throughput protocol in the modes a GPU user would pick (see docs/gpu.md)."""
