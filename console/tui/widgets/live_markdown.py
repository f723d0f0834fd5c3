"""The live tail of a streamed answer: Textual's ``Markdown``, minus a widget per block.

``Markdown.append`` turns each new block into a new widget, and mounting one (CSS matching,
compose, a message pump of its own) costs milliseconds: for an answer's first text that was
most of what the screen added to the time to first token (P1), and a fast stream mounted one
per block (P2). Textual updates the last block in place when the next parse gives a block of
the same kind, but a paragraph only ever becomes another paragraph.

Here every paragraph, heading and top-level list is one widget class, :class:`LiveBlock`, which
becomes any of them in place: it wears the look of Textual's ``MarkdownParagraph`` /
``MarkdownH1``-``H6`` as inline styles built from the same theme variables (a CSS class change
would re-run the stylesheet on the widget, which costs about as much as a mount), and draws a
list with Rich, as it will look once frozen (Textual mounts a row, a bullet and a paragraph
widget per item). And the tail always ends with one mounted (an empty, hidden one to start
with), so the first text, and every paragraph, heading or list after a freeze
(:meth:`LiveMarkdown.restart`), arrives without a mount: on the 2-core VM, mounting a list and
then an empty block after each list's freeze was 15 % of the screen's loop at 2 × 2,500 tok/s.
Code, tables and quotes still mount as Textual makes them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich.segment import Segment
from textual.await_complete import AwaitComplete
from textual.color import Color
from textual.content import Content
from textual.geometry import Size
from textual.strip import Strip
from textual.widgets import Markdown
from textual.widgets._markdown import (  # the list classes are not exported; textual is pinned
    MarkdownBulletList,
    MarkdownHeader,
    MarkdownOrderedList,
)
from textual.widgets.markdown import MarkdownBlock

from console.tui.widgets.frozen_markdown import chunk_job, render_chunk

HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
LISTS = ("bullet_list_open", "ordered_list_open")
# Textual 8.2's rules for MarkdownHeader / MarkdownH1-H6 and `Markdown > MarkdownParagraph`; a
# list's is Textual's `MarkdownList` bottom margin.
MARGINS = {"h1": (2, 0, 1, 0), "h2": (2, 0, 1, 0), "h3": (1, 0, 1, 0), "h4": (1, 0, 1, 0),
           "h5": (1, 0, 1, 0), "h6": (1, 0, 1, 0), "p": (0, 0, 1, 0), "list": (0, 0, 1, 0)}
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


class LiveBlock(MarkdownBlock):
    """A paragraph, a heading or a top-level list (``kind``: ``p``, ``h1`` … ``h6``, ``list``, or
    ``empty``); becomes any other in place.

    Paragraphs and headings show their inline ``Content`` as Textual's blocks do. A list is drawn
    by Rich: the lines it will have once frozen
    (:class:`~console.tui.widgets.frozen_markdown.FrozenMarkdown` draws finished blocks with Rich),
    so a list does not change its look when it freezes. Textual draws a list as a row, a bullet
    and a paragraph widget per item: thirteen mounts for three items, all removed when the list
    freezes, which in a fast stream is a frame or two after it starts (P2, docs/benchmarks.md).
    Here the items parsed into ``_blocks`` are never mounted; each append draws the list's source
    again. Like Textual's list, it has no blank line above and one below (Rich's own blank line
    before a block is left to the frozen part).
    """

    def __init__(self, markdown: Markdown, token: Token, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(markdown, token, *args, **kwargs)
        self.kind = kind_of(token)
        self.top_level = token.level == 0
        self._styled: tuple[str, str] | None = None  # (kind, theme) the inline styles are for
        self._lines: list[list[Segment]] = []  # a list's lines, drawn by Rich
        self._drawn: tuple[str, int] | None = None  # (source, width) of ``_lines``

    @classmethod
    def placeholder(cls, markdown: Markdown) -> LiveBlock:
        block = cls(markdown, Token("paragraph_open", "p", 1, map=[0, 1]))
        block.kind = "empty"
        return block

    @classmethod
    def or_textual(cls, textual: type[MarkdownBlock]):  # noqa: ANN206 - a block factory
        """A block factory for ``LiveMarkdown.BLOCKS``' lists: a top-level list becomes a
        ``LiveBlock``; a list inside a quote stays ``textual``'s (its source range is not the
        document's)."""

        def make(markdown: Markdown, token: Token, *args, **kwargs) -> MarkdownBlock:  # noqa: ANN002, ANN003
            return (cls if token.level == 0 else textual)(markdown, token, *args, **kwargs)

        return make

    def compose(self):  # noqa: ANN201 - ComposeResult
        self._blocks.clear()  # a list's items are drawn by Rich, not mounted; a paragraph has none
        return iter(())

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
        if self.kind in ("p", "list"):
            if self.top_level:
                styles.margin = MARGINS[self.kind]
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
        if not isinstance(block, LiveBlock):
            await super()._update_from_block(block)  # remove this one, mount that one
            return
        self._copy_context(block)  # the source range is already the new block's (Markdown.append)
        self.kind, self.top_level = block.kind, block.top_level
        self.set_content(block._content)  # a list's is empty: it is drawn from its source
        self.restyle()

    def take(self, opening: Token, inline: Token | None) -> None:
        """Become the top-level block that ``opening`` opens (its ``inline`` token, for a
        paragraph or heading), as :meth:`_update_from_block` does from a ``LiveBlock`` built for
        it (Textual's ``_parse_markdown`` gives that one its token, the content of its inline
        token, and a list nothing), without building it."""
        self._token = opening  # MarkdownBlock._copy_context
        self.kind, self.top_level = kind_of(opening), opening.level == 0
        self.set_content(Content() if inline is None else self._token_to_content(inline))
        self.restyle()

    def _list_lines(self, width: int) -> list[list[Segment]]:
        source = self.source or ""
        if self._drawn != (source, width):
            lines = render_chunk(chunk_job(self, source, width), self.app.console)[0] if width > 0 else []
            while lines and not Segment.get_line_length(lines[0]):
                lines.pop(0)
            self._lines, self._drawn = lines, (source, width)
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.kind != "list":
            return super().get_content_height(container, viewport, width)
        return len(self._list_lines(width))

    def render_line(self, y: int) -> Strip:
        if self.kind != "list":
            return super().render_line(y)
        width = self.content_size.width
        lines = self._list_lines(width)
        return Strip(lines[y]) if y < len(lines) else Strip.blank(width)

    def notify_style_update(self) -> None:
        self._drawn = None  # a list's colours are baked into its lines
        super().notify_style_update()


def one_live_block(tokens: list[Token]) -> tuple[Token, Token | None] | None:
    """``(opening token, inline token)`` when ``tokens`` are exactly one top-level paragraph,
    heading or list (a list's inline token is None: it is drawn from its source), else None."""
    if len(tokens) < 3:
        return None
    first, last = tokens[0], tokens[-1]
    if first.level != 0 or last.level != 0 or first.map is None:
        return None
    if first.type in ("paragraph_open", "heading_open"):
        if len(tokens) == 3 and tokens[1].type == "inline" and last.type == first.type.replace("_open", "_close"):
            return first, tokens[1]
        return None
    if first.type in LISTS and last.type == first.type.replace("_open", "_close"):
        if all(token.level > 0 for token in tokens[1:-1]):  # nothing else at the top level
            return first, None
    return None


def kind_of(token: Token) -> str:
    """A :class:`LiveBlock`'s kind for the block ``token`` opens."""
    if token.type in LISTS:
        return "list"
    return token.tag if token.tag in HEADINGS else "p"


class LiveMarkdown(Markdown):
    """Textual's ``Markdown`` whose paragraphs, headings and top-level lists are
    :class:`LiveBlock` s, which always ends with one mounted, and which takes streamed text in
    the writer's own task (:meth:`extend`)."""

    BLOCKS = {**Markdown.BLOCKS, **{tag: LiveBlock for tag in (*HEADINGS, "paragraph_open")},
              "bullet_list_open": LiveBlock.or_textual(MarkdownBulletList),
              "ordered_list_open": LiveBlock.or_textual(MarkdownOrderedList)}

    async def extend(self, markdown: str, parsed: tuple[str, list[Token]] | None = None) -> None:
        """Append ``markdown`` in the caller's task: ``Markdown.append``'s steps without its hops.

        ``append`` runs its work in a task of its own and reports back through a ``gather``
        (``AwaitComplete``), and ``MarkdownStream`` adds a task in front: five or six turns of the
        event loop per append, each queued behind whatever else is ready, frames included. At two
        panes × 2,500 tok/s those turns were most of the ~18 ms from a delta's arrival to its
        text being in the document (P2, docs/benchmarks.md). The steps are Textual 8.2's
        ``append`` (textual is pinned): parse from the last top-level block on, update the last
        block in place, mount the rest.

        ``parsed``: ``(document, tokens)``, the caller's parse of the whole document with this
        one's parser, used instead of parsing again when the document, once extended, is that
        text and is parsed from its first line (the answer's drain parses it anyway to find
        finished blocks).
        """
        async with self.lock:  # after a restart or an append in flight: text is never dropped
            self._markdown = self.source + markdown
            start_line = self._last_parsed_line
            if parsed is not None and start_line == 0 and parsed[0] == self._markdown:
                tokens = parsed[1]
            else:
                parser = MarkdownIt("gfm-like") if self._parser_factory is None else self._parser_factory()
                tokens = parser.parse("".join(self._markdown.splitlines(keepends=True)[start_line:]))
            existing = [child for child in self.children if isinstance(child, MarkdownBlock)]
            for token in reversed(tokens):
                if token.map is not None and token.level == 0:
                    self._last_parsed_line += token.map[0]
                    break
            last = existing[-1] if existing else None
            single = one_live_block(tokens) if isinstance(last, LiveBlock) else None
            if single is not None:
                # One paragraph, heading or top-level list, and the last widget takes it: what the
                # steps below do (build the block as a widget, with a widget per list item, then
                # copy its token, kind and content into the last one), minus building widgets
                # that are thrown away, on every append.
                opening, inline = single
                with self.app.batch_update():
                    last.source_range = (opening.map[0] + start_line, opening.map[1] + start_line)
                    last.take(opening, inline)
                return
            new_blocks = list(self._parse_markdown(tokens))
            for block in new_blocks:
                start, end = block.source_range
                block.source_range = (start + start_line, end + start_line)
            headers = any(isinstance(block, MarkdownHeader) for block in new_blocks)
            with self.app.batch_update():
                if existing and new_blocks:
                    existing[-1].source_range = new_blocks[0].source_range
                    try:
                        await existing[-1]._update_from_block(new_blocks[0])
                    except IndexError:  # as Textual does: that block could not take it, mount it
                        pass
                    else:
                        new_blocks = new_blocks[1:]
                if new_blocks:
                    await self.mount_all(new_blocks)
            if headers:
                self._table_of_contents = None
                self.post_message(Markdown.TableOfContentsUpdated(self, self.table_of_contents).set_sender(self))

    def update(self, markdown: str) -> AwaitComplete:
        updated = super().update(markdown)

        async def then_placeholder() -> None:
            await updated
            if not any(isinstance(child, MarkdownBlock) for child in self.children):
                await self.mount(LiveBlock.placeholder(self))

        return AwaitComplete(then_placeholder())

    async def restart(self, then_also: Callable[[], None] | None = None) -> None:
        """Empty the document for the next block, keeping its last block mounted (emptied) when
        that is a :class:`LiveBlock`, else mounting a new empty one.

        What the screen shows changes in one synchronous step, together with ``then_also`` (the
        answer's freeze adds the same text to its frozen part there): blocks that go are hidden
        at once and removed after it. No repaint is held back (``batch_update``) across the
        awaits of removing and mounting: that held every frame of the app, both panes', for
        their message round trips (P2, docs/benchmarks.md).

        (Resets ``Markdown``'s own ``_markdown`` and ``_last_parsed_line``, as ``update("")``
        does; textual is pinned.)
        """
        async with self.lock:  # appends still in flight finish first
            blocks = [child for child in self.children if isinstance(child, MarkdownBlock)]
            keep = blocks[-1] if blocks and isinstance(blocks[-1], LiveBlock) else None
            gone = [block for block in blocks if block is not keep]
            if then_also is not None:
                then_also()
            for block in gone:
                block.display = False
            self._markdown = ""
            self._last_parsed_line = 0
            self._table_of_contents = None
            if keep is not None:
                keep.empty()
            if gone:
                await self.remove_children(gone)
            if keep is None:
                await self.mount(LiveBlock.placeholder(self))
