"""Bring a DataTable in line with new rows, touching only the cells that changed (dolphie-style)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from textual.widgets import DataTable


def sync_table(table: DataTable, rows: Mapping[str, Sequence[object]], columns: Sequence[str]) -> int:
    """Add new rows, remove gone ones, update changed cells; returns how many cells were written.

    ``rows`` maps a stable row key to its cells in ``columns`` order. Row order of new rows
    follows ``rows``; existing rows keep their place (the caller sorts when it wants to).
    """
    written = 0
    existing = {key.value for key in table.rows}
    for key in existing - rows.keys():
        table.remove_row(key)
    for key, cells in rows.items():
        if key in existing:
            for column, value in zip(columns, cells):
                if table.get_cell(key, column) != value:
                    table.update_cell(key, column, value)
                    written += 1
        else:
            table.add_row(*cells, key=key)
            written += len(cells)
    return written
