"""The chat's prompt box: Textual's ``Input`` whose text changing never lays out the screen.

``Input`` is a ``ScrollView`` of a fixed size whose virtual width is its text's; Textual's
``virtual_size`` asks for a layout of the whole screen when it changes, so every keystroke, and
the box emptied when Enter sends, arranged every widget again. The chat's first frame after
Enter, the one that shows the answers' first text, paid for that layout (docs/benchmarks.md,
"P2: the answers' opening"). A scroll view's layout only passes its virtual size on to its
scroll limits (``ScrollView._size_updated``): here the box does that itself and asks for a
repaint. And its horizontal scrollbar, which has no size, is never shown (showing it would ask
for a layout when the text first gets wider than the box).
"""

from __future__ import annotations

from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input


class PromptBox(Input):
    """An ``Input`` whose virtual size (its text's width) sets its scroll limits, not a layout."""

    # Input's horizontal scrollbar has no size but is shown once the text is wider than the box,
    # which asks for a layout too; the box scrolls to its cursor all the same.
    DEFAULT_CSS = "PromptBox { overflow-x: hidden; }"
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)
