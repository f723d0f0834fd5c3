"""A DataTable that sizes columns from plain text length instead of rendering every new cell.

Textual's DataTable measures each cell of each new row through Rich (about 0.6 ms a row on
this machine), which made 1,000 pods take ~0.7 s to appear. Our cells are short one-line
strings with simple console markup, so the width of the text without its markup tags is exact.
This relies on DataTable internals of textual 8.2 (``_update_dimensions``); pinned in pyproject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.cells import cell_len
from rich.text import Text
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

_TAG = re.compile(r"\[/?[a-zA-Z0-9 #_.,=-]*\]")


def plain_width(value: object) -> int:
    if isinstance(value, Text):
        return cell_len(value.plain)
    text = str(value)
    return cell_len(_TAG.sub("", text) if "[" in text else text)


class FastDataTable(DataTable):
    """Single-line rows only (``height=1``); column widths grow with the widest plain text."""

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        columns = self.ordered_columns
        for row_key in new_rows:
            cells = self._data.get(row_key)
            if cells is None:
                continue  # removed before the idle pass
            for column in columns:
                if column.key in cells:
                    width = plain_width(cells[column.key])
                    if width > column.content_width:
                        column.content_width = width
        widths = tuple(column.content_width for column in columns)
        if widths != getattr(self, "_rendered_widths", widths):
            # Textual's cell render cache is not keyed by width: a cell drawn before its column
            # widened (a late price, "$1." for "$1.212") would stay cut until its next update.
            self._clear_caches()
        self._rendered_widths = widths
        data_cells_width = sum(column.get_render_width(self) for column in self.columns.values())
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(data_cells_width + self._row_label_column_width, self._total_row_height + header_height)
