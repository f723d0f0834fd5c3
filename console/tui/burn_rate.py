"""Keeps the cluster's burn rate in the app's sub-title, so every screen's header shows it.

Polls in a thread worker (never overlapping: exclusive group) every ``INTERVAL_S``. Where no AWS
credentials are configured it says so at once and never polls, so an offline console stays
quiet (and its screenshots stable).
"""

from __future__ import annotations

from textual.app import App

INTERVAL_S = 60.0


class BurnRateTicker:
    def __init__(self, app: App, base_title: str) -> None:
        self.app = app
        self.base_title = base_title
        self.headline = ""
        self.last = None  # the last console.core.burn_rate.BurnRate

    def start(self) -> None:
        from console.core.pricing import aws_credentials_configured

        cfg = self.app.config  # type: ignore[attr-defined]
        if not aws_credentials_configured(cfg.aws.profile):
            self._show("burn: no AWS credentials")
            return
        self._show("burn: checking…")
        self.refresh()
        self.app.set_interval(INTERVAL_S, self.refresh)

    def refresh(self) -> None:
        self.app.run_worker(self._measure, thread=True, exclusive=True, group="burn-rate", exit_on_error=False)

    def _measure(self) -> None:
        from console.core.burn_rate import compute_burn_rate
        from console.core.cluster_access import api_client_for_cluster

        cfg = self.app.config  # type: ignore[attr-defined]
        api, _why = api_client_for_cluster(cfg, cfg.aws.cluster, cfg.aws.region)
        rate = compute_burn_rate(cfg.aws.cluster, cfg.aws.region, api_client=api, profile=cfg.aws.profile)
        self.last = rate
        self.app.call_from_thread(self._show, rate.headline())

    def _show(self, headline: str) -> None:
        self.headline = headline
        self.app.sub_title = f"{self.base_title} · {headline}"
