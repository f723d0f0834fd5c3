"""The places of the app (one screen each) and the keys that reach them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    id: str
    title: str
    key: str
    module: str  # console.tui.screens.<module> defines SCREEN, the screen class
    summary: str

    def screen_class(self) -> type:
        return importlib.import_module(f"console.tui.screens.{self.module}").SCREEN

    def make_screen(self):  # noqa: ANN201 - a textual Screen; this module stays import-light
        """A new screen for this place (modes call it lazily, on first visit)."""
        return self.screen_class()()


PLACES: tuple[Place, ...] = (
    Place("models", "Models", "1", "models", "what the Triton server serves and each model's config"),
    Place("chat", "Chat", "2", "chat", "both models side by side on one prompt"),
    Place("cluster", "Cluster", "3", "cluster", "nodes, pods, HPA, events of the EKS cluster"),
    Place("metrics", "Metrics", "4", "metrics", "GPU, queue, latency and token metrics"),
    Place("provision", "Provision", "5", "provision", "create the cluster and the serving stack"),
    Place("teardown", "Teardown", "6", "teardown", "remove everything so GPUs stop billing"),
)


def by_id(place_id: str) -> Place | None:
    wanted = place_id.strip().lstrip(":").lower()
    for place in PLACES:
        if wanted in (place.id, place.key) or (wanted and place.id.startswith(wanted)):
            return place
    return None
