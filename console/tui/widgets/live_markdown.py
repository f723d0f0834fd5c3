"""The live tail of a streamed answer: Textual's ``Markdown``, minus a widget per paragraph.

``Markdown.append`` turns each new block into a new widget, and mounting one (CSS matching,
compose, a message pump of its own) costs milliseconds: for an answer's first text that was
most of what the screen added to the time to first token (P1), and a fast stream mounted one
per block (P2). Textual updates the last block in place when the next parse gives a block of
the same kind, but a paragraph only ever becomes another paragraph.

Here every paragraph and heading is one widget class, :class:`TextBlock`, which becomes any of
them in place: it wears the look of Textual's ``MarkdownParagraph`` / ``MarkdownH1``-``H6`` as
inline styles built from the same theme variables (a CSS class change would re-run the
stylesheet on the widget, which costs about as much as a mount). And the tail always ends with
one mounted (an empty, hidden one to start with), so the first text, and every heading or
paragraph after a freeze (:meth:`LiveMarkdown.restart`), arrives without a mount.

A list is the other block a stream spends long in: Textual removes and mounts the whole list
(a row, a bullet and a paragraph per item) on every append that touches it. Here a list grows in
place (:class:`GrowingList`): its items' paragraphs update as above and only a new item mounts.
Code, tables and quotes still mount as Textual makes them.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it.token import Token
from textual.await_complete import AwaitComplete
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import (  # the list classes are not exported; textual is pinned
    MarkdownBullet,
    MarkdownBulletList,
    MarkdownListItem,
    MarkdownOrderedList,
)
from textual.widgets.markdown import MarkdownBlock

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# Textual 8.2's rules for MarkdownHeader / MarkdownH1-H6 and `Markdown > MarkdownParagraph`.
MARGINS = {"h1": (2, 0, 1, 0), "h2": (2, 0, 1, 0), "h3": (1, 0, 1, 0), "h4": (1, 0, 1, 0),
           "h5": (1, 0, 1, 0), "h6": (1, 0, 1, 0), "p": (0, 0, 1, 0)}
STYLED_RULES = ("margin", "color", "background", "text_style", "content_align_horizontal",
                "content_align_vertical", "width", "display")


@lru_cache(maxsize=4)
def theme_variables(app: object, theme: str) -> dict[str, str]:
    """The CSS variables of ``app`` under ``theme`` (building them takes milliseconds: once per
    theme, not per heading)."""
    return app.get_css_variables()  # type: ignore[attr-defined]


def heading_styles(app: object, theme: str, kind: str) -> tuple[Color, Color, str]:
    """Colour, background and text style of heading ``kind`` (``h1`` … ``h6``) under ``theme``."""
    variables = theme_variables(app, theme)
    return (Color.parse(variables[f"markdown-{kind}-color"]), Color.parse(variables[f"markdown-{kind}-background"]),
            variables[f"markdown-{kind}-text-style"])


class TextBlock(MarkdownBlock):
    """A paragraph or a heading (``kind``: ``p``, ``h1`` … ``h6``, or ``empty``); becomes
    another in place."""

    def __init__(self, markdown: Markdown, token: Token, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(markdown, token, *args, **kwargs)
        self.kind = token.tag if token.tag in HEADINGS else "p"
        self.top_level = token.level == 0
        self._styled: tuple[str, str] | None = None  # (kind, theme) the inline styles are for

    @classmethod
    def placeholder(cls, markdown: Markdown) -> TextBlock:
        block = cls(markdown, Token("paragraph_open", "p", 1, map=[0, 1]))
        block.kind = "empty"
        return block

    def on_mount(self) -> None:
        self.restyle()
        self.watch(self.app, "theme", lambda _theme: self.restyle(), init=False)

    def restyle(self) -> None:
        """Inline styles for ``kind`` under the current theme (only when either changed)."""
        key = (self.kind, self.app.theme)
        if key == self._styled:
            return
        self._styled = key
        styles = self.styles
        for rule in STYLED_RULES:
            styles.clear_rule(rule)
        if self.kind == "empty":
            styles.display = "none"
            return
        if self.kind == "p":
            if self.top_level:
                styles.margin = MARGINS["p"]
            return
        styles.margin = MARGINS[self.kind]
        styles.color, styles.background, styles.text_style = heading_styles(self.app, self.app.theme, self.kind)
        if self.kind == "h1":
            styles.content_align = ("center", "middle")
        elif self.kind == "h3":
            styles.width = "auto"

    def empty(self) -> None:
        """Show nothing until the next block's text arrives."""
        self.kind = "empty"
        self.set_content(Content())
        self.restyle()

    async def _update_from_block(self, block: MarkdownBlock) -> None:
        if not isinstance(block, TextBlock):
            await super()._update_from_block(block)  # remove this one, mount that one
            return
        self._copy_context(block)
        self.kind, self.top_level = block.kind, block.top_level
        self.set_content(block._content)
        self.restyle()


def bullet_symbols(block: MarkdownBlock, items: list[MarkdownListItem]) -> list[str]:
    """The bullets ``block`` (a bullet or an ordered list) shows for ``items``, as Textual's
    ``compose`` of that list makes them (textual is pinned; the screen test guards the copy)."""
    if not isinstance(block, MarkdownOrderedList):
        return [item.bullet for item in items]
    start = 1
    if items:
        try:
            start = int(items[0].bullet)
        except ValueError:
            pass
    numbers = [f"{number}. " for number in range(start, start + len(items))]
    width = max((len(number) for number in numbers), default=0) + 1
    return [number.rjust(width) for number in numbers]


class GrowingList:
    """Mixin for a bullet or ordered list that takes the next parse of itself in place.

    (A mixin, first among the bases: Textual takes a widget's CSS from the chain of its first
    widget base, which must stay Textual's list class.)

    Textual mounts a list as one ``Horizontal(MarkdownBullet, Vertical(*item blocks))`` row per
    item. When every row already shown holds only :class:`TextBlock` s and the next parse has the
    same kind of block at each of their places (the usual case while a list streams: the last
    item grows, a new one starts), those update in place and only what is new mounts. Anything
    else (fewer items, a nested list or a code block in an item) is mounted again as Textual does.
    """

    async def _update_from_block(self: MarkdownBlock, block: MarkdownBlock) -> None:  # type: ignore[misc]
        rows = list(self.query_children(Horizontal))
        items = [item for item in block._blocks if isinstance(item, MarkdownListItem)]
        if type(block) is not type(self) or len(items) != len(block._blocks) or len(items) < len(rows) or not all(
            self._grows_into(row, item) for row, item in zip(rows, items)
        ):
            await super()._update_from_block(block)
            return
        self._copy_context(block)
        symbols = bullet_symbols(block, items)
        for row, item, symbol in zip(rows, items, symbols):
            bullet, blocks = row.children
            bullet.symbol = symbol  # a reactive: unchanged symbols cost nothing
            shown = list(blocks.children)
            for old, new in zip(shown, item._blocks):
                await old._update_from_block(new)
            if len(item._blocks) > len(shown):
                await blocks.mount_all(item._blocks[len(shown) :])
        new_rows = []
        for item, symbol in zip(items[len(rows) :], symbols[len(rows) :]):
            bullet = MarkdownBullet()
            bullet.symbol = symbol
            new_rows.append(Horizontal(bullet, Vertical(*item._blocks)))
        if new_rows:
            await self.mount_all(new_rows)

    @staticmethod
    def _grows_into(row: Horizontal, item: MarkdownListItem) -> bool:
        """Whether the row shown for an item can take ``item`` in place."""
        children = list(row.children)
        if len(children) != 2 or not isinstance(children[0], MarkdownBullet):
            return False
        shown = list(children[1].children)
        return len(shown) <= len(item._blocks) and all(
            isinstance(block, TextBlock) for block in (*shown, *item._blocks)
        )


class GrowingBulletList(GrowingList, MarkdownBulletList):
    """A bullet list that grows in place."""


class GrowingOrderedList(GrowingList, MarkdownOrderedList):
    """An ordered list that grows in place."""


class LiveMarkdown(Markdown):
    """Textual's ``Markdown`` (fed by its ``MarkdownStream``) whose paragraphs and headings are
    :class:`TextBlock` s, and which always ends with one mounted."""

    BLOCKS = {**Markdown.BLOCKS, **{tag: TextBlock for tag in (*HEADINGS, "paragraph_open")},
              "bullet_list_open": GrowingBulletList, "ordered_list_open": GrowingOrderedList}

    def update(self, markdown: str) -> AwaitComplete:
        updated = super().update(markdown)

        async def then_placeholder() -> None:
            await updated
            if not any(isinstance(child, MarkdownBlock) for child in self.children):
                await self.mount(TextBlock.placeholder(self))

        return AwaitComplete(then_placeholder())

    async def restart(self) -> None:
        """Empty the document for the next block, keeping its last block mounted (emptied) when
        that is a :class:`TextBlock`, else mounting a new empty one.

        (Resets ``Markdown``'s own ``_markdown`` and ``_last_parsed_line``, as ``update("")``
        does; textual is pinned.)
        """
        async with self.lock:  # appends still in flight finish first
            blocks = [child for child in self.children if isinstance(child, MarkdownBlock)]
            keep = blocks[-1] if blocks and isinstance(blocks[-1], TextBlock) else None
            with self.app.batch_update():
                gone = [block for block in blocks if block is not keep]
                if gone:
                    await self.remove_children(gone)
                self._markdown = ""
                self._last_parsed_line = 0
                self._table_of_contents = None
                if keep is None:
                    await self.mount(TextBlock.placeholder(self))
                else:
                    keep.empty()
