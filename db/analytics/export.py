"""One row per client of the current analytics, for checking the numbers elsewhere (the CLI's export)."""

from __future__ import annotations

from typing import Iterator

import psycopg

from db.analytics.dashboard import CURRENT_SLOT_SQL
from db.errors import UserError
from db.i18n import N_

# Exactly the columns issue 13 names, in its order.
COLUMNS = ("client_id", "external_key", "r_days", "f", "m", "profit", "r_score", "f_score", "m_score",
           "rfm_segment", "abc_class", "ae_class", "expected_purchases_12m", "expected_value_12m", "p_alive")

# `profit` is the period's (the A-E input); `m` is lifetime, as RFM defines it.
_ROWS_SQL = f"""
SELECT a.client_id, c.external_key, a.r_days, a.f, a.m, a.profit, a.r_score, a.f_score, a.m_score,
       a.rfm_segment, a.abc_class::text, a.ae_class::text, a.expected_purchases_12m, a.expected_value_12m, a.p_alive
  FROM analytics_client a JOIN client c ON c.id = a.client_id
 WHERE a.slot = {CURRENT_SLOT_SQL}
 ORDER BY a.client_id
"""


def rows(conn: psycopg.Connection) -> Iterator[tuple]:
    """The rows in client order, streamed by a server-side cursor so a million clients need no memory."""
    if conn.execute("SELECT 1 FROM analytics_run WHERE published LIMIT 1").fetchone() is None:
        raise UserError(N_("The analytics have not been computed yet; run `clientbase analytics refresh`."))
    with conn.transaction(), conn.cursor(name="analytics_export") as cursor:
        cursor.itersize = 10_000
        cursor.execute(_ROWS_SQL)
        yield from cursor
