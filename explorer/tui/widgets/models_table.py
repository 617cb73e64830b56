"""Every registered model version in one table: sortable by any column, filtered as you type."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable

from explorer.tui.data.models import ModelRow, Signed
from explorer.tui.data.text import clip, clip_middle


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    title: str
    width: int


COLUMNS = (
    Column("name", "Model", 16),
    Column("version", "Version", 9),
    Column("labels", "Aliases/stages", 14),
    Column("created", "Created", 10),
    Column("signed", "Signed", 12),
    Column("bom", "BOM", 5),
    Column("deployed", "Deployed now", 16),
    Column("gaps", "Gaps", 4),
    Column("metrics", "Run metrics", 26),
    Column("data", "Data version", 28),
)

GROWS = {"name": 24, "deployed": 24, "data": 44, "metrics": 30}
"""Columns that take a wide terminal's spare cells, in this order, each up to so many more."""
_MIDDLE = {"name", "data"}  # cut in the middle: the end tells rows apart (``dir:name``, ``@digest``)

_SIGNED_STYLE = {
    Signed.VERIFIED: "green",
    Signed.FAILED: "bold red",
    Signed.UNVERIFIED: "yellow",
    Signed.UNSIGNED: "dim",
}
_SIGNED_MARK = {Signed.VERIFIED: "✔", Signed.FAILED: "✘", Signed.UNVERIFIED: "?", Signed.UNSIGNED: "-"}


class ModelsTable(DataTable[Text]):
    """Rows are :class:`ModelRow`; the row key is the model version id."""

    BINDINGS = [
        Binding("o", "cycle_sort", "Sort", id="models-sort", tooltip="Sort by the next column (the header shows ▲)"),
        Binding("O", "reverse_sort", "Reverse", id="models-reverse", show=False, tooltip="Reverse the sort order"),
    ]

    filter_text: reactive[str] = reactive("")
    """Rows shown are those whose cells contain this text (case-insensitive)."""

    sort_column: reactive[str] = reactive("version")
    """Key of the column rows are sorted by."""

    sort_reverse: reactive[bool] = reactive(False)
    """Sort descending instead of ascending."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: list[ModelRow] = []
        self.shown: list[ModelRow] = []
        self._widths: dict[str, int] = {}
        self._longest: dict[str, int] = {}  # per growing column, its longest cell over every row

    def on_mount(self) -> None:
        self._widths = {c.key: max(c.width, len(c.title) + 2) for c in COLUMNS}
        for column in COLUMNS:
            self.add_column(column.title, key=column.key, width=self._widths[column.key])

    def on_resize(self) -> None:
        if self._fitted_widths() != self._widths:
            self._refill()

    def _fitted_widths(self) -> dict[str, int]:
        """Each column's width: its own, plus what its longest cell needs of a wide terminal's spare cells."""
        widths = {c.key: max(c.width, len(c.title) + 2) for c in COLUMNS}
        room = self.content_region.width - self.styles.scrollbar_size_vertical  # whether rows scroll or not
        spare = room - sum(w + 2 for w in widths.values())  # 2: cell padding
        for key, most in GROWS.items():
            more = max(0, min(spare, most, self._longest.get(key, 0) - widths[key]))
            widths[key] += more
            spare -= more
        return widths

    def show(self, rows: list[ModelRow]) -> None:
        """Replace all rows (keeps the cursor on the same model version when it is still shown)."""
        self._rows = list(rows)
        self._longest = {key: max((len(_texts(r)[key][0]) for r in self._rows), default=0) for key in GROWS}
        self._refill()

    def watch_filter_text(self) -> None:
        self._refill()

    class Sorted(Message):
        """The sort column or direction changed."""

    def watch_sort_column(self) -> None:
        self._refill()
        self.post_message(self.Sorted())

    def watch_sort_reverse(self) -> None:
        self._refill()
        self.post_message(self.Sorted())

    @property
    def current(self) -> ModelRow | None:
        """The model version under the cursor."""
        if 0 <= self.cursor_row < len(self.shown):
            return self.shown[self.cursor_row]
        return None

    @property
    def sort_title(self) -> str:
        """The sort column's title and direction, for the status line (the header may be scrolled away)."""
        title = next(c.title for c in COLUMNS if c.key == self.sort_column)
        return f"{title} {'▼' if self.sort_reverse else '▲'}"

    @staticmethod
    def whole(row: ModelRow) -> str:
        """Every cell of a row, whole, one per line: what the table cut to fit."""
        texts = _texts(row)
        return "\n".join(f"{c.title}: {texts[c.key][0]}" for c in COLUMNS) + f"\nid: {row.id}"

    def action_cycle_sort(self) -> None:
        keys = [c.key for c in COLUMNS]
        self.sort_reverse = False
        self.sort_column = keys[(keys.index(self.sort_column) + 1) % len(keys)]

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse

    def sort_by(self, key: str) -> None:
        if key == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_reverse = False
            self.sort_column = key

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def _refill(self) -> None:
        if not self.is_mounted:
            return
        current = self.current
        rows = [r for r in self._rows if r.matches(self.filter_text)]
        rows.sort(
            key=lambda r: (r.sort_key(self.sort_column), r.name, r.sort_key("version")), reverse=self.sort_reverse
        )
        self.shown = rows
        self.clear()
        widths = self._fitted_widths()
        if widths != self._widths:
            self._widths = widths
            for key, width in widths.items():
                self.columns[key].width = width  # type: ignore[index]
        for row in rows:
            self.add_row(*self._cells(row, widths), key=row.id)
        for column in COLUMNS:
            arrow = (" ▼" if self.sort_reverse else " ▲") if column.key == self.sort_column else ""
            self.columns[column.key].label = Text(column.title + arrow)  # type: ignore[index]
        if current is not None:
            # by id: a refreshed row (now verified, now deployed) is a new value for the same version
            ids = [r.id for r in rows]
            if current.id in ids:
                self.move_cursor(row=ids.index(current.id))

    @staticmethod
    def _cells(row: ModelRow, widths: dict[str, int]) -> list[Text]:
        return [
            Text((clip_middle if key in _MIDDLE else clip)(text, widths[key]), style=style)
            for key, (text, style) in _texts(row).items()
        ]


def _texts(row: ModelRow) -> dict[str, tuple[str, str]]:
    """Each cell of a row, whole, and its style."""
    return {
        "name": (row.name, ""),
        "version": (row.version, "bold"),
        "labels": (", ".join(row.labels) or "-", "" if row.labels else "dim"),
        "created": (row.created[:10] or "-", ""),
        "signed": (f"{_SIGNED_MARK[row.signed]} {row.signed}", _SIGNED_STYLE[row.signed]),
        "bom": ("✔" if row.bom else "-", "green" if row.bom else "dim"),
        "deployed": (", ".join(row.deployed) or "-", "" if row.deployed else "dim"),
        "gaps": (str(row.gaps), "bold red" if row.gaps else "dim"),
        "metrics": (", ".join(f"{k}={v:.4g}" for k, v in row.metrics) or "-", "" if row.metrics else "dim"),
        "data": (", ".join(row.data) or "-", "" if row.data else "dim"),
    }
