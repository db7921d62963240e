"""``lsnet serve``: an HTTP inference service with dynamic micro-batching for any artifact a runner opens."""
