"""The prompt box types, scrolls and looks like Textual's ``Input``, without laying out the screen.

Widget test in a small host app (no server): the same keys go to a :class:`PromptBox` in one
run of the host and to a plain ``Input`` in another. After each key every cell of the box must
match (text, cursor, the text scrolled sideways once it is longer than the box), and no key
typed into the prompt box may lay out the screen.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Input

from console.tui.widgets.prompt_box import PromptBox
from tests.pilot_helpers import screen_layouts, widget_cells

TEXT = "why is the sky blue, and how long is a piece of string?"  # longer than the box
KEYS = [*TEXT, "home", "right", "right", "end", "backspace", "left"]


class Host(App):
    CSS = "Input { width: 40; }"

    def __init__(self, box_type: type[Input]) -> None:
        super().__init__()
        self.box_type = box_type

    def compose(self) -> ComposeResult:
        yield self.box_type(placeholder="ask", id="box")


async def typed(box_type: type[Input]) -> list[tuple]:
    """Per key: the key, the box's cells, value, cursor and scroll after it, the layouts it caused."""
    app = Host(box_type)
    steps = []
    async with app.run_test(size=(60, 6)) as pilot:
        box = app.query_one("#box", Input)
        box.cursor_blink = False  # the cursor always drawn: the cells do not depend on timing
        await pilot.pause()
        steps.append(("start", widget_cells(app, box), box.value, box.cursor_position, box.scroll_x, 0))
        for key in KEYS:
            with screen_layouts() as layouts:
                await pilot.press(key)
                await pilot.pause()
            steps.append((key, widget_cells(app, box), box.value, box.cursor_position, box.scroll_x, len(layouts)))
        with screen_layouts() as layouts:
            box.value = ""  # what sending does
            await pilot.pause()
        steps.append(("cleared", widget_cells(app, box), box.value, box.cursor_position, box.scroll_x, len(layouts)))
    return steps


async def test_the_prompt_box_types_and_scrolls_like_input_without_a_layout():
    ours, theirs = await typed(PromptBox), await typed(Input)
    assert [step[:5] for step in ours] == [step[:5] for step in theirs]
    assert [key for key, *_, layouts in ours if layouts] == []
    assert sum(layouts for *_, layouts in theirs) > 10  # Textual's Input: a layout at most keys
    assert max(scroll for *_, scroll, _layouts in ours) > 0 and ours[-2][2] == TEXT[:-1]  # it scrolled sideways
    assert ours[-1][2:5] == ("", 0, 0)
