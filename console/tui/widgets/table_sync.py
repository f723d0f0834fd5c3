"""Bring a DataTable in line with new rows, touching only the cells that changed (dolphie-style)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from textual.widgets import DataTable


@dataclass
class SyncResult:
    cells_written: int = 0
    rows_added: int = 0
    rows_removed: int = 0
    columns_changed: set[str] = field(default_factory=set)

    @property
    def reshaped(self) -> bool:
        return bool(self.rows_added or self.rows_removed)


class TableSync:
    """Remembers what a table shows, so an update compares plain lists instead of reading cells back."""

    def __init__(self, table: DataTable, columns: Sequence[str]) -> None:
        self.table, self.columns = table, list(columns)
        self.shown: dict[str, list[object]] = {}

    def update(self, rows: Mapping[str, Sequence[object]]) -> SyncResult:
        """Add new rows, remove gone ones, rewrite changed cells only. New rows go to the end."""
        result = SyncResult()
        table, shown = self.table, self.shown
        for key in [k for k in shown if k not in rows]:
            table.remove_row(key)
            del shown[key]
            result.rows_removed += 1
        for key, cells in rows.items():
            before = shown.get(key)
            if before is None:
                table.add_row(*cells, key=key)
                result.rows_added += 1
                result.cells_written += len(cells)
            elif before != cells:
                for column, old, new in zip(self.columns, before, cells):
                    if old != new:
                        # widen for a longer value (a late price must not be cut); never re-measure to shrink
                        table.update_cell(key, column, new, update_width=len(str(new)) > len(str(old)))
                        result.cells_written += 1
                        result.columns_changed.add(column)
            else:
                continue
            shown[key] = list(cells)
        return result

    def clear(self) -> None:
        self.table.clear()
        self.shown = {}
