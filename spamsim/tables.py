"""Terminal tables that fit: numbers are never cut off or split, whatever the width.

A command describes its table once as a :class:`Grid` — rows with a label and cells, each
cell a number (with an optional 95 % CI) or text — and :func:`fit` picks the first layout
that shows every number whole at the terminal's width:

1. ``wide``: one line per row, CIs next to the means (``5M [4.99M, 5.01M]``), optional
   columns (such as "what it counts") included;
2. the same without optional columns;
3. ``ci below``: each CI on a second line under its mean;
4. ``transposed`` (for tables with a few entities as rows, e.g. channels): quantities as
   rows, entities as columns;
5. ``stacked``: one block per row, a label/value pair per line.

"Fits" is checked by rendering: no ellipsis and every number on one line. Numbers are
written compactly by :mod:`spamsim.fmt` (``5M``, ``251K``), so the wide layout is usually
the one chosen at 120 columns and the others keep 80 columns readable.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich is imported where a table is built: `spamsim validate` prints none
    from rich.console import RenderableType
    from rich.table import Table

ELLIPSIS = "…"


@dataclass
class Cell:
    """A table cell: text (a number written by :mod:`spamsim.fmt`, or words) and an optional CI."""

    text: str
    ci: str = ""
    number: bool = True

    def lines(self, ci_below: bool) -> str:
        if not self.ci:
            return self.text
        return f"{self.text}\n{self.ci}" if ci_below else f"{self.text} {self.ci}"


@dataclass
class Column:
    header: str
    number: bool = True
    optional: bool = False
    """Shown only when the table fits with it (e.g. explanations)."""
    style: str | None = None


@dataclass
class Row:
    label: str
    cells: list[Cell]
    style: str | None = None


@dataclass
class Grid:
    """A table described once, laid out by :func:`fit` for the terminal's width."""

    title: str
    corner: str
    """Header of the label column."""
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    caption: str | None = None
    transposable: bool = False
    """Whether quantities-as-rows reads well (a few entities, many quantities)."""

    def add(self, label: str, cells: list[Cell | str], style: str | None = None) -> None:
        self.rows.append(Row(label, [c if isinstance(c, Cell) else Cell(c) for c in cells], style))

    def tokens(self) -> list[str]:
        """Every number as written (the pieces that must never be cut or split)."""
        out = []
        for row in self.rows:
            for cell, column in zip(row.cells, self.columns, strict=True):
                if cell.number and column.number:
                    out += (cell.text + " " + cell.ci).split()
        return out


def _numeric_width(cells: list[Cell], ci_below: bool) -> int:
    from rich.cells import cell_len

    return max((cell_len(line) for c in cells for line in c.lines(ci_below).split("\n")), default=0)


def _table(grid: Grid, ci_below: bool, optional: bool) -> Table:
    from rich.table import Table

    keep = [i for i, c in enumerate(grid.columns) if optional or not c.optional]
    table = Table(title=grid.title, caption=grid.caption)
    table.add_column(grid.corner)
    for i in keep:
        column = grid.columns[i]
        width = _numeric_width([r.cells[i] for r in grid.rows], ci_below) if column.number else None
        table.add_column(
            column.header, justify="right" if column.number else "left", style=column.style, min_width=width
        )
    for row in grid.rows:
        table.add_row(row.label, *[row.cells[i].lines(ci_below) for i in keep], style=row.style)
    return table


def _transposed(grid: Grid) -> Table:
    from rich.table import Table

    table = Table(title=grid.title, caption=grid.caption)
    table.add_column("")
    for row in grid.rows:
        width = _numeric_width(row.cells, True)
        table.add_column(row.label, justify="right", min_width=width)
    for i, column in enumerate(grid.columns):
        if column.optional:
            continue
        table.add_row(column.header, *[row.cells[i].lines(True) for row in grid.rows])
    return table


def _stacked(grid: Grid, ci_below: bool) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=grid.title, caption=grid.caption, show_header=False)
    table.add_column(grid.corner, overflow="fold")
    table.add_column("value", justify="right", no_wrap=True)
    for n, row in enumerate(grid.rows):
        if n:
            table.add_section()
        table.add_row(Text(row.label, style="bold"), "", style=row.style)
        for cell, column in zip(row.cells, grid.columns, strict=True):
            if column.optional:
                continue
            table.add_row("  " + column.header, cell.lines(ci_below))
    return table


def layouts(grid: Grid) -> list[tuple[str, Table]]:
    """Every layout of ``grid``, in the order :func:`fit` tries them."""
    out = []
    if any(c.optional for c in grid.columns):
        out.append(("wide", _table(grid, ci_below=False, optional=True)))
    out.append(("wide", _table(grid, ci_below=False, optional=False)))
    if any(cell.ci for row in grid.rows for cell in row.cells):
        out.append(("ci below", _table(grid, ci_below=True, optional=False)))
    if grid.transposable:
        out.append(("transposed", _transposed(grid)))
    out.append(("stacked", _stacked(grid, ci_below=False)))
    out.append(("stacked", _stacked(grid, ci_below=True)))
    return out


def render_text(renderable: RenderableType, width: int) -> str:
    """What ``renderable`` looks like on a terminal ``width`` columns wide (plain text)."""
    from rich.console import Console

    # soft_wrap: lines too long for the terminal come out whole (a terminal would wrap or crop them).
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, soft_wrap=True)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def is_table_line(line: str) -> bool:
    """Whether a rendered line belongs to a table's grid (it starts with a box-drawing character)."""
    return bool(line) and "\u2500" <= line[0] <= "\u257f"


def shows_whole(text: str, tokens: list[str], width: int) -> bool:
    """True when ``text`` fits ``width`` columns, cuts nothing off (no ellipsis) and has every token on one line."""
    lines = text.splitlines()
    # Only the table's own lines: a long title or caption soft-wraps in the terminal, whole.
    from rich.cells import cell_len

    if ELLIPSIS in text or any(cell_len(line) > width for line in lines if is_table_line(line)):
        return False
    return all(any(token in line for line in lines) for token in set(tokens))


def fit(grid: Grid, width: int) -> Table:
    """The first layout of ``grid`` that shows every number whole at ``width`` columns.

    Parameters
    ----------
    grid
        The table's content.
    width
        The terminal's width in columns.

    Returns
    -------
    rich.table.Table
        Ready to print; the last (most compact) layout when nothing fits.
    """
    tokens = grid.tokens()
    candidates = layouts(grid)
    for _name, table in candidates:
        if shows_whole(render_text(table, width), tokens, width):
            return table
    return candidates[-1][1]
