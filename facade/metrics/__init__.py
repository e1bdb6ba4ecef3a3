"""Prometheus metrics: request counters by door, native codes, upstream latency, queues, indicator runs.

``facade.metrics.registry`` holds the metric families (cheap to import anywhere);
``facade.metrics.route`` serves ``/metrics`` and counts requests (``install_metrics(app)``).
"""
