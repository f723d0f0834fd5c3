"""The Provision place (not built yet)."""

from __future__ import annotations

from console.tui.screens.not_built import NotBuiltScreen


class ProvisionScreen(NotBuiltScreen):
    PLACE_TITLE = "Provision"
    WHAT = "Preflight and a staged terraform apply."


SCREEN = ProvisionScreen
