"""A list of any length drawn line by line: only the visible rows and a margin are ever fetched.

Like toolong's log view, a ScrollView whose `render_line` draws one row at a time. The rows come from a
`loader(start) -> page` (run in thread workers) that returns keyset pages: `page.rows` and `page.next`,
the start of the following page or None at the end. Pages are cached (a few dozen, least recently used
first out); the start of every page seen is kept (a few bytes each), so scrolling back re-fetches an
evicted page from its start instead of walking from the top.

Until the list is told how many rows there are (`set_total`), it grows as the user scrolls: the scrollbar
covers the rows found so far, plus one "loading" line while more may follow. Once told, the scrollbar
spans them all, and a page no keyset start reaches (End, a drag of the scrollbar) is asked for by its row
number: `loader(n)` with an int, one such jump at a time since each costs the database an OFFSET. The
count may be an estimate: a page past the real end says so (`page.total`, or a short last page), and the
list shrinks to fit; a page found beyond the estimate makes it grow again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Generic, Protocol, Sequence, TypeVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events, work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from db.i18n import t

Row = TypeVar("Row")


class PageLike(Protocol[Row]):
    rows: Sequence[Row]
    next: Any
    # Optional: how many rows there are, given by a page asked for past the last one.
    total: int | None


@dataclass(frozen=True)
class Column(Generic[Row]):
    title: str
    text: Callable[[Row], str]
    width: int            # the narrowest it may be
    flex: int = 0         # share of the spare width
    right: bool = False   # numbers align right
    priority: int = 0     # the highest number goes first when the terminal is too narrow


class VirtualList(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    VirtualList {
        height: 1fr;
        overflow-x: hidden;
    }
    VirtualList > .virtual-list--header { text-style: bold; background: $panel; }
    VirtualList > .virtual-list--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    VirtualList:blur > .virtual-list--cursor { background: $block-cursor-blurred-background; }
    VirtualList > .virtual-list--placeholder { color: $text-muted; }
    """
    COMPONENT_CLASSES = {"virtual-list--header", "virtual-list--cursor", "virtual-list--placeholder"}
    BINDINGS = [
        Binding("up", "cursor_up", t("Up"), tooltip=t("Select the row above"), show=False, id="list.up"),
        Binding("down", "cursor_down", t("Down"), tooltip=t("Select "
                                                                        "the row below"), show=False, id="list.down"),
        Binding("pageup", "page_up", t("Page up"), tooltip=t("Go "
                                                                  "up one screenful"), show=False, id="list.page_up"),
        Binding("pagedown", "page_down", t("Page down"), tooltip=t("Go down one "
                                                                        "screenful"), show=False, id="list.page_down"),
        Binding("home", "first", t("First"), tooltip=t("Go to the first row"), show=False, id="list.first"),
        Binding("end", "last", t("Last"), tooltip=t("Go "
                                                         "to the last row found so far"), show=False, id="list.last"),
        Binding("enter", "choose", t("Open"), tooltip=t("Open the selected row"), show=False, id="list.choose"),
    ]
    PAGE_CACHE = 30
    MARGIN = 50  # rows fetched beyond the visible ones, so that scrolling rarely meets a gap

    cursor: reactive[int] = reactive(0)

    @dataclass
    class Chosen(Message):
        """Enter (or a click) on a row."""

        virtual_list: "VirtualList"
        row: Any

        @property
        def control(self) -> "VirtualList":
            return self.virtual_list

    @dataclass
    class Loaded(Message):
        """A page arrived; `first` is true for the first page of a new loader."""

        virtual_list: "VirtualList"
        first: bool
        page: Any

        @property
        def control(self) -> "VirtualList":
            return self.virtual_list

    @dataclass
    class NeedsExactTotal(Message):
        """End was pressed while the total is an estimate: the owner answers with `set_total(n, exact=True)`,
        and the cursor goes to the last row then (an estimate off by a few thousand rows would otherwise
        put it short of the end, or past it)."""

        virtual_list: "VirtualList"

        @property
        def control(self) -> "VirtualList":
            return self.virtual_list

    @dataclass
    class Failed(Message):
        """A page could not be fetched; the list retries when asked (`retry`)."""

        virtual_list: "VirtualList"
        error: BaseException

        @property
        def control(self) -> "VirtualList":
            return self.virtual_list

    def __init__(self, columns: Sequence[Column], page_size: int, placeholder: str, empty: str, *,
                 id: str | None = None) -> None:
        """`page_size`: the rows of every page but the last, as the loader returns them."""
        super().__init__(id=id)
        self.columns = list(columns)
        self.placeholder = placeholder
        self.empty = empty
        self._loader: Callable[[Any], PageLike] | None = None
        self._generation = 0
        self._pages: OrderedDict[int, Sequence[Any]] = OrderedDict()
        self._starts: dict[int, Any] = {0: None}  # the keyset start of each page reachable without a jump
        self._reached = 0                  # rows known to exist: the end of the furthest page fetched
        self._end: int | None = None       # the number of rows, once a page showed where they end
        self._total: int | None = None     # the number of rows as counted (perhaps an estimate)
        self._to_end = False               # End waits for the exact total
        self._loading: set[int] = set()
        self._jumping: int | None = None   # the page being fetched by its row number
        self._ready = False                # the first page is in: the others may be asked for
        self._page_size = page_size

    # --- data -------------------------------------------------------------------------------------

    def load(self, loader: Callable[[Any], PageLike], keep_position: bool = False) -> None:
        """Shows what `loader` returns from its first page on. With `keep_position`, the same loader
        again (a refresh): the page starts found so far stay, so the view stays where it was."""
        self._generation += 1
        self._loader = loader
        self._pages.clear()
        self._loading.clear()
        self._jumping = None
        # A refresh fetches the pages in view at once, from the starts it knows.
        self._ready = keep_position and self._reached > 0
        if not keep_position:
            self._starts, self._reached, self._end, self._total = {0: None}, 0, None, None
            self._to_end = False
            self.cursor = 0
            self.scroll_to(y=0, animate=False)
        self._fetch_first(self._generation)
        self._update_size()
        self.refresh()

    def retry(self) -> None:
        """Fetches again what failed (the database came back)."""
        if self._loader is not None:
            self.load(self._loader, keep_position=True)

    def set_total(self, total: int, exact: bool) -> None:
        """How many rows there are (an estimate will do): the scrollbar spans them, and jumps go anywhere."""
        self._total = total
        if exact:
            self._ends_at(total)
        self._update_size()
        if exact and self._to_end:
            self._to_end = False
            self.move_cursor(self.row_count)
        self._ensure_loaded()

    @property
    def row_count(self) -> int:
        """The rows the list spans, fetched or not."""
        if self._end is not None:
            return self._end
        return max(self._reached, self._total or 0)

    @property
    def counted_end(self) -> int | None:
        """The number of rows, once a page has shown where they end."""
        return self._end

    @property
    def _lines(self) -> int:
        """The rows the list spans, and a "loading" line after them while rows past them may exist."""
        more_may_follow = self._end is None and (self._total is None or self._reached >= self._total)
        return self.row_count + (1 if more_may_follow else 0)

    def row_at(self, index: int) -> Any | None:
        page = self._pages.get(index // self._page_size)
        if page is None:
            return None
        offset = index % self._page_size
        return page[offset] if offset < len(page) else None

    @property
    def current(self) -> Any | None:
        return self.row_at(self.cursor)

    def replace_rows(self, fresh: dict[Any, Any], key: Callable[[Any], Any]) -> None:
        """Puts fresh versions of rows in place wherever a cached page shows them."""
        for number, rows in list(self._pages.items()):
            if any(key(row) in fresh for row in rows):
                self._pages[number] = [fresh.get(key(row), row) for row in rows]
        self.refresh()

    def cached_rows(self) -> list[Any]:
        return [row for rows in self._pages.values() for row in rows]

    @work(thread=True, exclusive=True, group="virtual-list-first", exit_on_error=False)
    def _fetch_first(self, generation: int) -> None:
        self._fetch(generation, 0, None)

    @work(thread=True, group="virtual-list-pages", exit_on_error=False)
    def _fetch_page(self, generation: int, number: int, start: Any) -> None:
        self._fetch(generation, number, start)

    def _fetch(self, generation: int, number: int, start: Any) -> None:
        loader = self._loader
        assert loader is not None
        try:
            page = loader(start)
        except Exception as exc:
            self.app.call_from_thread(self._failed, generation, number, exc)
            return
        self.app.call_from_thread(self._arrived, generation, number, page)

    def _failed(self, generation: int, number: int, error: Exception) -> None:
        # A superseded search's failure (it was cancelled, most likely) is no news; the current one's is.
        if generation == self._generation:
            self._loading.discard(number)
            if self._jumping == number:
                self._jumping = None
            self.post_message(self.Failed(self, error))

    def _arrived(self, generation: int, number: int, page: PageLike) -> None:
        if generation != self._generation:
            return  # a newer search superseded this one
        self._loading.discard(number)
        rows = list(page.rows)
        self._pages[number] = rows
        self._pages.move_to_end(number)
        wanted = self._wanted_pages()
        # Least recently fetched first, but never a page on screen or in the margin: evicting one of
        # those would fetch it again at once, and again, whenever the cache is smaller than the view.
        for old in [page for page in self._pages if page not in wanted][:max(0, len(self._pages) - self.PAGE_CACHE)]:
            del self._pages[old]
        if self._jumping == number:
            self._jumping = None
        self._ready = True
        total = getattr(page, "total", None)
        if total is not None:
            self._ends_at(total)  # asked for past the end, which the page says where it is
        elif page.next is not None:
            self._starts[number + 1] = page.next
            self._reached = max(self._reached, number * self._page_size + len(rows))
        else:
            self._ends_at(number * self._page_size + len(rows))
        self._update_size()
        self.refresh()
        self.post_message(self.Loaded(self, number == 0, page))
        self._ensure_loaded()

    def _ends_at(self, rows: int) -> None:
        self._end = rows
        self._reached = min(self._reached, rows)
        self.cursor = min(self.cursor, max(0, rows - 1))

    def _wanted_pages(self) -> range:
        """The pages under the viewport and the margin around it."""
        top = max(0, int(self.scroll_y) - self.MARGIN)
        bottom = int(self.scroll_y) + self.size.height + self.MARGIN
        return range(top // self._page_size, bottom // self._page_size + 1)

    def _ensure_loaded(self) -> None:
        """Requests the wanted pages that are not cached: by their keyset start when one is known, else
        by their row number (one at a time), and only while the first page is in."""
        if self._loader is None or not self._ready:
            return
        lines = self._lines
        for number in self._wanted_pages():
            if number * self._page_size >= lines or number in self._pages or number in self._loading:
                continue
            if number in self._starts:
                self._loading.add(number)
                self._fetch_page(self._generation, number, self._starts[number])
            elif self._total is not None and self._jumping is None and number - 1 not in self._loading:
                # (The page before, on its way, would bring this one's keyset start: cheaper than a jump.)
                self._loading.add(number)
                self._jumping = number
                self._fetch_page(self._generation, number, number * self._page_size)

    # --- drawing ----------------------------------------------------------------------------------

    def _update_size(self) -> None:
        self.virtual_size = Size(self.size.width, 1 + max(self._lines, 1))

    def on_resize(self, event: events.Resize) -> None:
        self._update_size()
        self._ensure_loaded()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._ensure_loaded()

    def _widths(self, width: int) -> list[tuple[Column, int]]:
        shown = sorted(self.columns, key=lambda column: column.priority)
        while len(shown) > 1 and sum(c.width for c in shown) + len(shown) - 1 > width:
            shown.pop()
        spare = width - sum(c.width for c in shown) - (len(shown) - 1)
        flex = sum(c.flex for c in shown) or 1
        widths = {id(c): c.width + spare * c.flex // flex for c in shown}
        return [(c, widths[id(c)]) for c in self.columns if id(c) in widths]

    def _line(self, cells: list[tuple[str, int, bool]], style: Style) -> Strip:
        segments = []
        for number, (text, width, right) in enumerate(cells):
            text = " ".join(text.split())  # a newline or tab in the data must not break the row
            length = cell_len(text)
            fitted = " " * (width - length) + text if right and length < width else set_cell_size(text, width)
            segments.append(Segment(fitted + (" " if number < len(cells) - 1 else ""), style))
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        layout = self._widths(width)
        if y == 0:
            style = self.get_component_rich_style("virtual-list--header")
            strip = self._line([(c.title, w, c.right) for c, w in layout], style)
            return strip.extend_cell_length(width, style).crop(0, width)
        index = int(self.scroll_y) + y - 1
        base = self.rich_style
        row = self.row_at(index)
        if row is None:
            muted = self.get_component_rich_style("virtual-list--placeholder")
            if self._end == 0 and index == 0:
                text = self.empty
            elif index < self._lines:
                text = self.placeholder
            else:
                text = ""
            return Strip([Segment(set_cell_size(f" {text}" if text else "", width), muted)])
        style = self.get_component_rich_style("virtual-list--cursor") if index == self.cursor else base
        strip = self._line([(c.text(row), w, c.right) for c, w in layout], style)
        return strip.extend_cell_length(width, style).crop(0, width)

    # --- moving -----------------------------------------------------------------------------------

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh()
        visible = max(1, self.size.height - 1)
        if new < self.scroll_y:
            self.scroll_to(y=new, animate=False)
        elif new >= self.scroll_y + visible:
            self.scroll_to(y=new - visible + 1, animate=False)

    def move_cursor(self, delta: int) -> None:
        last = max(0, self.row_count - 1)
        self.cursor = max(0, min(last, self.cursor + delta))

    def action_cursor_up(self) -> None:
        self.move_cursor(-1)

    def action_cursor_down(self) -> None:
        self.move_cursor(1)

    def action_page_up(self) -> None:
        self.move_cursor(-max(1, self.size.height - 2))

    def action_page_down(self) -> None:
        self.move_cursor(max(1, self.size.height - 2))

    def action_first(self) -> None:
        self.cursor = 0

    def action_last(self) -> None:
        """The last row; before the rows are counted, the last found so far (pressing again goes further
        as more pages arrive)."""
        if self._end is None and self._total is not None:  # an exact total has set the end
            self._to_end = True
            self.post_message(self.NeedsExactTotal(self))
            return
        self.move_cursor(self.row_count)

    def action_choose(self) -> None:
        row = self.current
        if row is not None:
            self.post_message(self.Chosen(self, row))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            index = int(self.scroll_y) + event.y - 1
            if index < self.row_count:
                self.cursor = index
                if event.chain == 2:
                    self.action_choose()
