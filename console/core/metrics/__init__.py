"""Serving metrics: scrape Triton's /metrics page or query Prometheus, derive rates over a window.

``scrape`` parses the exposition text into a :class:`Scrape` (samples by name), ``sources`` fetch
scrapes (Triton endpoint, Prometheus HTTP API), ``derive`` turns two scrapes into a
:class:`Reading` (rates, per-request times, latency quantiles, GPU gauges), and ``sampler``
keeps readings over a time window for plots. Metrics a server does not export are ``None`` /
empty in a reading — absent, never zero.
"""
