"""The dashboard's tables, filled from the stored results (db/analytics/dashboard.Dashboard), each cell with
where Enter leads: the clients list with the filters that select exactly the clients behind its number (the
drill-down filters of db/analytics/drill.py), or a client's card."""

from __future__ import annotations

from dataclasses import dataclass

from db.analytics.dashboard import ClassRow, Run
from db.analytics.reads import DashboardView
from db.clients.listing import Filters
from db.i18n import t
from tui.widgets.charts import DrillTable, bar
from tui.widgets.money import money
from db import labels

BAR_WIDTH = 14
ABC = ("A", "B", "C")
AE = ("A", "B", "C", "D", "E")
CATEGORIES = ("prospect", "one-time", "regular")


@dataclass(frozen=True)
class Drill:
    """Where a cell leads: the clients list with these filters."""

    filters: Filters


@dataclass(frozen=True)
class OpenCard:
    """Where a client's row leads: that client's card."""

    client_id: int


def _extra(name: str, value: str) -> Drill:
    return Drill(Filters(extra=((name, value),)))


def _percent(share: float | None) -> str:
    return "" if share is None else t("{percent:.1f} %", percent=100 * share)


def _by_class(rows: list[ClassRow]) -> dict[str, ClassRow]:
    return {row.class_: row for row in rows}


def fill_totals(table: DrillTable, run: Run) -> None:
    """The run's totals in one line without a header: every client it analysed, and the buyers among them."""
    table.clear_all()
    table.add_columns("", "", "", "")
    everyone = _extra("analytics_category", "all") if run.clients else None
    buyers = _extra("analytics_category", "buyer") if run.buyers else None
    table.add_drill_row([t("Clients"), f"{run.clients:,}", t("Buyers"), f"{run.buyers:,}"],
                        [everyone, everyone, buyers, buyers])


def month_drill(key: str) -> Drill:
    """The clients behind a month's revenue (YYYY-MM), from the months table or the bars above it."""
    return _extra("month_revenue", key)


def fill_abc(table: DrillTable, view: DashboardView) -> None:
    """ABC by period revenue: clients, revenue, its share, revenue per client."""
    _class_table(table, view.board.abc, ABC, "abc_class")


def fill_ae(table: DrillTable, view: DashboardView) -> None:
    _class_table(table, view.board.ae, AE, "ae_class")


def _class_table(table: DrillTable, rows: list[ClassRow], order: tuple[str, ...], field: str) -> None:
    table.clear_all()
    table.add_columns(t("Class"), t("Clients"), t("Revenue"),
                      t("Share"), t("Per client"), "")
    named = _by_class(rows)
    for name in order:
        row = named.get(name)
        if row is None:
            continue
        # Per client, not per order: the period's revenue beside lifetime purchases would not be an order value.
        per_client = money(row.revenue / row.clients, 0) if row.clients else ""
        table.add_drill_row([name, f"{row.clients:,}", money(row.revenue, 0), _percent(row.share), per_client,
                             bar(row.share, 1.0, BAR_WIDTH)], Drill(Filters(**{field: name})))


def fill_buyers(table: DrillTable, view: DashboardView) -> None:
    """Prospects, one-time and regular buyers as of the analysis date, their share of all clients and of the
    buyers (the share of regular clients), and those who went quiet."""
    table.clear_all()
    table.add_columns(t("Who"), t("Clients"), t("Share"), t("Of buyers"))
    named = _by_class(view.board.categories)
    everyone = sum(row.clients for row in named.values())
    buyers = everyone - (named["prospect"].clients if "prospect" in named else 0)
    for name in CATEGORIES:
        clients = named[name].clients if name in named else 0
        of_buyers = "" if name == "prospect" else _percent(clients / buyers if buyers else None)
        table.add_drill_row([t(labels.DASHBOARD_BOUGHT[name]), f"{clients:,}",
                             _percent(clients / everyone if everyone else None), of_buyers],
                            _extra("analytics_category", name))
    days = view.board.inactive_after_days
    table.add_drill_row([t("Quiet ≥{days} days", days=days), f"{view.inactive:,}",
                         _percent(view.inactive / everyone if everyone else None),
                         _percent(view.inactive / buyers if buyers else None)],
                        _extra("inactive_days", str(days)))


def fill_segments(table: DrillTable, view: DashboardView) -> None:
    """RFM segments in the map's order: clients, revenue share (whole history), average order value."""
    table.clear_all()
    table.add_columns(t("Segment"), t("Clients"), t("Share"),
                      t("Avg order"), "")
    named = _by_class(view.board.segments)
    most = max((row.clients for row in named.values()), default=0)
    order = [name for name in view.segment_order if name in named]
    order += sorted(name for name in named if name not in order)
    for name in order:
        row = named[name]
        table.add_drill_row([labels.rfm_segment(name), f"{row.clients:,}", _percent(row.share),
                             money(row.average_order, 0), bar(row.clients, most, BAR_WIDTH)],
                            Drill(Filters(rfm_segment=name)))


def fill_rf_grid(table: DrillTable, view: DashboardView) -> None:
    """Clients per R score (rows, 5 = most recent first) and F score (columns)."""
    table.clear_all()
    table.add_columns("R ↓ F →", *(str(f) for f in range(1, 6)))
    cells_by_score = {(cell.r_score, cell.f_score): cell.clients for cell in view.board.grid}
    for r in range(5, 0, -1):
        cells, targets = [str(r)], [None]
        for f in range(1, 6):
            clients = cells_by_score.get((r, f), 0)
            cells.append(f"{clients:,}")
            targets.append(_extra("rfm_cell", f"{r},{f}") if clients else None)
        table.add_drill_row(cells, targets)


def fill_months(table: DrillTable, view: DashboardView) -> None:
    """Revenue by month, with the month's cohort: the clients who first bought then, the share of them who came
    back within 90 days and how many did not. The month and its revenue lead to the clients behind that revenue,
    the cohort's numbers to the cohort, its returners and the others."""
    table.clear_all()
    table.add_columns(t("Month"), t("Revenue"), "", t("New"), t("Back ≤90 d"), t("Not back"))
    months = view.board.months
    top = max((float(month.revenue) for month in months), default=0.0)
    for month in reversed(months):
        key = month.month.strftime("%Y-%m")
        revenue = month_drill(key)
        cohort = [_extra("cohort", key), _extra("cohort_back", key), _extra("cohort_not_back", key)]
        if not month.new_clients:
            cohort = [None, None, None]
        table.add_drill_row([key, money(month.revenue, 0), bar(float(month.revenue), top, 10),
                             f"{month.new_clients:,}", _percent(month.retention),
                             f"{month.new_clients - month.returned_90d:,}"], [revenue, revenue, revenue, *cohort])


def fill_pareto(table: DrillTable, view: DashboardView) -> None:
    """The Pareto curve at every tenth of the buyers, and at the top 1 % and 5 %."""
    table.clear_all()
    table.add_columns(t("Top buyers"), t("Revenue"), "")
    for point in view.board.pareto:
        if point.point % 10 == 0 or point.point in (1, 5):
            table.add_drill_row([f"{point.point} %", _percent(point.revenue_share), bar(point.revenue_share, 1.0, 20)],
                                _extra("pareto_top", str(point.point)))


def fill_clv(table: DrillTable, view: DashboardView) -> None:
    table.clear_all()
    table.add_columns(t("Expected 12 m"), t("Clients"), "")
    buckets = view.board.clv
    most = max((bucket.clients for bucket in buckets), default=0)
    for bucket in buckets:
        table.add_drill_row([f"{money(bucket.low, 0)} – {money(bucket.high, 0)}", f"{bucket.clients:,}",
                             bar(bucket.clients, most, 20)], _extra("clv_bucket", str(bucket.bucket)))


def fill_top(table: DrillTable, view: DashboardView) -> None:
    """The clients by expected 12-month value: Enter on a name opens the card, on a number the list of the
    clients from the first down to that row."""
    table.clear_all()
    table.add_columns(t("Client"), t("Expected 12 m"),
                      t("Purchases"), t("Active"))
    for rank, client in enumerate(view.board.top_clients, 1):
        down_to = _extra("top_value", str(rank))
        table.add_drill_row([(client.name or f"#{client.client_id}")[:28], money(client.expected_value_12m, 0),
                             f"{client.expected_purchases_12m or 0:.1f}", _percent(client.p_alive)],
                            [OpenCard(client.client_id), down_to, down_to, down_to])


def fill_inactive(table: DrillTable, view: DashboardView) -> None:
    """The reactivation list: quiet buyers, by what they used to spend; Enter opens the card."""
    table.clear_all()
    table.add_columns(t("Client"), t("Spent"), t("Quiet, days"),
                      t("Segment"))
    for client in view.board.inactive:
        table.add_drill_row([(client.name or f"#{client.client_id}")[:28], money(client.m, 0), f"{client.r_days:,}",
                             labels.rfm_segment(client.rfm_segment)], OpenCard(client.client_id))


def fill_movement(table: DrillTable, view: DashboardView, kind: str, order: tuple[str, ...]) -> None:
    """From (rows, the previous refresh) to (columns, this one); every cell leads to the clients who moved so."""
    table.clear_all()
    moved = {(move.from_class, move.to_class): move.clients for move in view.board.movement.get(kind, [])}
    table.add_columns(t("From ↓ to →"), *order)
    for before in order:
        cells, targets = [before], [None]
        for after in order:
            clients = moved.get((before, after), 0)
            cells.append(f"{clients:,}" if clients else "·")
            targets.append(_extra(f"{kind}_move", f"{before}>{after}") if clients else None)
        table.add_drill_row(cells, targets)


def fill_segment_moves(table: DrillTable, view: DashboardView) -> None:
    """Twelve segments make a matrix too wide for 80 columns: the moves between segments as a list, largest
    first, the clients who stayed where they were left out."""
    table.clear_all()
    table.add_columns(t("From"), t("To"), t("Clients"))
    moves = [move for move in view.board.movement.get("segment", []) if move.from_class != move.to_class]
    for move in sorted(moves, key=lambda move: (-move.clients, move.from_class, move.to_class)):
        table.add_drill_row([labels.rfm_segment(move.from_class), labels.rfm_segment(move.to_class),
                             f"{move.clients:,}"],
                            _extra("segment_move", f"{move.from_class}>{move.to_class}"))
