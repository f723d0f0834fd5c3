"""The Chat place (not built yet)."""

from __future__ import annotations

from console.tui.screens.not_built import NotBuiltScreen


class ChatScreen(NotBuiltScreen):
    PLACE_TITLE = "Chat"
    WHAT = "Two models side by side on one prompt."


SCREEN = ChatScreen
