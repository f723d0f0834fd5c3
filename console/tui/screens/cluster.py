"""The Cluster place (not built yet)."""

from __future__ import annotations

from console.tui.screens.not_built import NotBuiltScreen


class ClusterScreen(NotBuiltScreen):
    PLACE_TITLE = "Cluster"
    WHAT = "Nodes, pods, HPA and events of the EKS cluster."


SCREEN = ClusterScreen
