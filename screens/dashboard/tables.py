"""The dashboard's tables, filled from the stored results (db/analytics/reads.Dashboard), each cell with the
clients list's filters that select exactly the clients behind its number."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from db.analytics.reads import ClassRow, Dashboard
from db.clients.listing import Filters
from db.i18n import t
from tui.widgets.charts import DrillTable, bar, share
from tui.widgets.money import money

BAR_WIDTH = 14
ABC = ("A", "B", "C")
AE = ("A", "B", "C", "D", "E")
CATEGORIES = ("prospect", "one-time", "regular")


@dataclass(frozen=True)
class Drill:
    """Where a cell leads: the clients list with these filters."""

    filters: Filters


def _extra(name: str, value: str) -> Drill:
    return Drill(Filters(extra=((name, value),)))


def _by_name(rows: tuple[ClassRow, ...]) -> dict[str, ClassRow]:
    return {row.name: row for row in rows}


def fill_abc(table: DrillTable, board: Dashboard) -> None:
    """ABC by period revenue: clients, revenue, its share, revenue per client."""
    _class_table(table, board.of_kind("abc"), ABC, "abc_class")


def fill_ae(table: DrillTable, board: Dashboard) -> None:
    _class_table(table, board.of_kind("ae"), AE, "ae_class")


def _class_table(table: DrillTable, rows: tuple[ClassRow, ...], order: tuple[str, ...], field: str) -> None:
    table.clear_all()
    table.add_columns(t("dashboard.col.class"), t("dashboard.col.clients"), t("dashboard.col.revenue"),
                      t("dashboard.col.share"), t("dashboard.col.per_client"), "")
    named = _by_name(rows)
    total = sum((row.revenue for row in rows if row.revenue > 0), Decimal(0))
    for name in order:
        row = named.get(name)
        if row is None:
            continue
        per_client = row.revenue / row.clients if row.clients else Decimal(0)
        table.add_drill_row([name, f"{row.clients:,}", money(row.revenue, 0), share(row.revenue, total),
                             money(per_client, 0), bar(float(row.revenue), float(total), BAR_WIDTH)],
                            Drill(Filters(**{field: name})))


def fill_buyers(table: DrillTable, board: Dashboard) -> None:
    """Prospects, one-time and regular buyers as of the analysis date, and those who went quiet."""
    table.clear_all()
    table.add_columns(t("dashboard.col.who"), t("dashboard.col.clients"), t("dashboard.col.share"))
    named = _by_name(board.of_kind("category"))
    everyone = sum(row.clients for row in named.values())
    for name in CATEGORIES:
        clients = named[name].clients if name in named else 0
        table.add_drill_row([t(f"dashboard.bought.{name}"), f"{clients:,}", share(clients, everyone)],
                            _extra("bought", name))
    table.add_drill_row([t("dashboard.inactive", days=board.inactive_days), f"{board.inactive:,}",
                         share(board.inactive, everyone)], _extra("inactive_days", str(board.inactive_days)))


def fill_segments(table: DrillTable, board: Dashboard) -> None:
    """RFM segments in the map's order: clients, revenue share (whole history), average order value."""
    table.clear_all()
    table.add_columns(t("dashboard.col.segment"), t("dashboard.col.clients"), t("dashboard.col.share"),
                      t("dashboard.col.avg_order"), "")
    rows = board.of_kind("segment")
    named = _by_name(rows)
    total = sum((row.revenue for row in rows if row.revenue > 0), Decimal(0))
    most = max((row.clients for row in rows), default=0)
    order = [name for name in board.segment_order if name in named]
    order += sorted(name for name in named if name not in order)
    for name in order:
        row = named[name]
        average = money(row.revenue / row.purchases, 0) if row.purchases else ""
        table.add_drill_row([name, f"{row.clients:,}", share(row.revenue, total), average,
                             bar(row.clients, most, BAR_WIDTH)], Drill(Filters(rfm_segment=name)))


def fill_rf_grid(table: DrillTable, board: Dashboard) -> None:
    """Clients per R score (rows, 5 = most recent first) and F score (columns)."""
    table.clear_all()
    table.add_columns("R ↓ F →", *(str(f) for f in range(1, 6)))
    named = _by_name(board.of_kind("rf"))
    for r in range(5, 0, -1):
        cells, targets = [str(r)], [None]
        for f in range(1, 6):
            row = named.get(f"{r},{f}")
            cells.append(f"{row.clients:,}" if row else "0")
            targets.append(_extra("rf_cell", f"{r},{f}") if row else None)
        table.add_drill_row(cells, targets)


def fill_months(table: DrillTable, board: Dashboard) -> None:
    """Revenue by month, with the month's cohort: the clients who first bought then, and who came back."""
    table.clear_all()
    table.add_columns(t("dashboard.col.month"), t("dashboard.col.revenue"), "", t("dashboard.col.new"),
                      t("dashboard.col.returned"))
    top = max((float(month.revenue) for month in board.months), default=0.0)
    for month in reversed(board.months):
        cohort = _extra("cohort", month.month.strftime("%Y-%m")) if month.new_clients else None
        table.add_drill_row([month.month.strftime("%Y-%m"), money(month.revenue, 0),
                             bar(float(month.revenue), top, 10), f"{month.new_clients:,}",
                             share(month.returned_90d, month.new_clients) if month.new_clients else ""],
                            [None, None, None, cohort, None])


def fill_pareto(table: DrillTable, board: Dashboard) -> None:
    """The Pareto curve at every tenth of the buyers (and the points where it crosses 80 % and 95 %)."""
    table.clear_all()
    table.add_columns(t("dashboard.col.top_clients"), t("dashboard.col.revenue_share"), "")
    shown = [point for point in board.pareto if point.point % 10 == 0 or point.point in (1, 5)]
    for point in shown:
        table.add_drill_row([f"{point.point} %", f"{100 * point.revenue_share:.1f} %",
                             bar(point.revenue_share, 1.0, 20)], _extra("pareto_top", str(point.point)))


def fill_clv(table: DrillTable, board: Dashboard) -> None:
    table.clear_all()
    table.add_columns(t("dashboard.col.expected_value"), t("dashboard.col.clients"), "")
    most = max((bucket.clients for bucket in board.clv_buckets), default=0)
    last = max((bucket.bucket for bucket in board.clv_buckets), default=0)
    for bucket in board.clv_buckets:
        open_ended = bucket.bucket == last and bucket.bucket > 10
        label = f"{money(bucket.low, 0)} +" if open_ended else f"{money(bucket.low, 0)} – {money(bucket.high, 0)}"
        value = f"{bucket.low}.." if open_ended else f"{bucket.low}..{bucket.high}"
        table.add_drill_row([label, f"{bucket.clients:,}", bar(bucket.clients, most, 20)],
                            _extra("clv_range", value))


def fill_top(table: DrillTable, board: Dashboard) -> None:
    table.clear_all()
    table.add_columns(t("dashboard.col.client"), t("dashboard.col.expected_value"),
                      t("dashboard.col.expected_purchases"), t("dashboard.col.p_alive"))
    for client in board.top_clients:
        table.add_drill_row([client.name[:28], money(client.expected_value_12m, 0),
                             f"{client.expected_purchases_12m:.1f}", f"{100 * client.p_alive:.0f} %"],
                            _extra("client", str(client.client_id)))


def fill_movement(table: DrillTable, board: Dashboard, kind: str, order: tuple[str, ...]) -> None:
    """From (rows, the previous refresh) to (columns, this one); every cell leads to the clients who moved so."""
    table.clear_all()
    named = _by_name(board.of_kind(f"move_{kind}"))
    table.add_columns(t("dashboard.col.from_to"), *order)
    for before in order:
        cells, targets = [before], [None]
        for after in order:
            row = named.get(f"{before}>{after}")
            cells.append(f"{row.clients:,}" if row else "·")
            targets.append(_extra(f"move_{kind}", f"{before}>{after}") if row else None)
        table.add_drill_row(cells, targets)


def fill_segment_moves(table: DrillTable, board: Dashboard) -> None:
    """Eleven segments make a matrix too wide for 80 columns: the moves between segments as a list, largest
    first, the clients who stayed where they were left out."""
    table.clear_all()
    table.add_columns(t("dashboard.col.from"), t("dashboard.col.to"), t("dashboard.col.clients"))
    moves = [row for row in board.of_kind("move_segment") if row.name.split(">", 1)[0] != row.name.split(">", 1)[1]]
    for row in sorted(moves, key=lambda row: (-row.clients, row.name)):
        before, after = row.name.split(">", 1)
        table.add_drill_row([before, after, f"{row.clients:,}"], _extra("move_segment", row.name))
