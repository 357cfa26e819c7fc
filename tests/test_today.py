"""The Today lists on a real database: birthday windows across month and year ends and 29 February, children
shown with their parent, subscriptions running out, reminders due, overdue and postponed, clients who just went
quiet, the week's new clients; and the database refusing reminder changes to everyone but the administrator."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest

from db import session
from db.errors import UserError
from db.today import reads, reminders


def _client(conn, last: str, birth: date | None = None, **extra) -> int:
    columns = ["last_name", "first_name", "birth_date", *extra]
    values = [last, "Test", birth, *extra.values()]
    return conn.execute(f"INSERT INTO client ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(values))}) "
                        "RETURNING id", values).fetchone()[0]


def _load(db, today: date, login: str = "t_admin", assignee: str | None = None) -> reads.TodayView:
    with db.connect("admin") as conn:
        return reads.load(conn, login, today=today, assignee=assignee)


def _birthdays(view: reads.TodayView) -> list[tuple[str, str, date, int]]:
    return [(b.client_name.split()[0], b.relative_name, b.on_day, b.age) for b in view.birthdays.shown]


@pytest.mark.parametrize(("today", "inside", "outside"), [
    # Across the year's end: 28 December sees 4 January (7 days on), not 5 January.
    (date(2026, 12, 28), [date(1980, 12, 28), date(1990, 1, 4), date(1985, 12, 31)], [date(1990, 1, 5),
                                                                                        date(1980, 12, 27)]),
    # Across a month's end.
    (date(2026, 4, 27), [date(1970, 5, 4), date(2001, 4, 30)], [date(1970, 5, 5)]),
])
def test_birthday_window_crosses_month_and_year_ends(fresh_db, today, inside, outside):
    with fresh_db.connect(autocommit=True) as conn:
        for number, birth in enumerate(inside + outside):
            _client(conn, f"B{number}", birth)
    view = _load(fresh_db, today)
    shown = {b.birth_date for b in view.birthdays.shown}
    assert shown == set(inside)
    assert view.birthdays.total == len(inside)
    days = [b.on_day for b in view.birthdays.shown]
    assert days == sorted(days)
    for birthday in view.birthdays.shown:
        assert today <= birthday.on_day <= today + timedelta(days=7)
        assert (birthday.on_day.month, birthday.on_day.day) == (birthday.birth_date.month, birthday.birth_date.day)


def test_29_february_counts_on_1_march_of_a_year_without_it(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        _client(conn, "Leap", date(2000, 2, 29))
    # 2027 has no 29 February: the birthday is 1 March, inside a window that reaches it, outside one that stops
    # on 28 February.
    seen = _load(fresh_db, date(2027, 2, 25))
    assert _birthdays(seen) == [("Leap", "", date(2027, 3, 1), 27)]
    assert _load(fresh_db, date(2027, 2, 20)).birthdays.total == 0
    # 2028 has one: the birthday is on the day itself, and 1 March is not a second one.
    assert _birthdays(_load(fresh_db, date(2028, 2, 27))) == [("Leap", "", date(2028, 2, 29), 28)]
    assert _load(fresh_db, date(2028, 3, 1)).birthdays.total == 0


def test_a_child_is_shown_with_the_parent_and_its_age(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        parent = _client(conn, "Parent", date(1985, 3, 12))
        conn.execute("INSERT INTO relative (client_id, relation, name, birth_date) VALUES (%s, 'child', 'Masha', %s)",
                     (parent, date(2019, 3, 10)))
        _client(conn, "Other", date(1990, 3, 11))
    view = _load(fresh_db, date(2026, 3, 9))
    assert _birthdays(view) == [("Parent", "Masha", date(2026, 3, 10), 7), ("Other", "", date(2026, 3, 11), 36),
                                ("Parent", "", date(2026, 3, 12), 41)]
    child = view.birthdays.shown[0]
    assert child.client_id == parent and child.relation == "child"


def test_a_long_list_shows_its_head_and_counts_the_rest(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO client (last_name, birth_date) SELECT 'Many' || g, DATE '1990-06-01' + g % 3 "
                     "FROM generate_series(1, 30) g")
    with fresh_db.connect("admin") as conn:
        view = reads.load(conn, "t_admin", today=date(2026, 6, 1), limit=10)
    assert len(view.birthdays.shown) == 10 and view.birthdays.total == 30
    assert [b.on_day for b in view.birthdays.shown] == [date(2026, 6, 1)] * 10


def test_subscriptions_ending_within_the_week_unless_renewed(fresh_db):
    today = date(2026, 5, 10)
    with fresh_db.connect(autocommit=True) as conn:
        gym = conn.execute("INSERT INTO product (name, price, subscription_days) VALUES ('Gym pass', 10, 30) "
                           "RETURNING id").fetchone()[0]
        ending, renewed, later = (_client(conn, name) for name in ("Ending", "Renewed", "Later"))
        for client, ends in ((ending, today + timedelta(days=7)), (renewed, today + timedelta(days=2)),
                             (renewed, today + timedelta(days=32)), (later, today + timedelta(days=8))):
            conn.execute("INSERT INTO subscription (client_id, product_id, starts_on, ends_on) VALUES (%s, %s, %s, %s)",
                         (client, gym, ends - timedelta(days=30), ends))
    view = _load(fresh_db, today)
    assert [(e.client_id, e.product, e.ends_on) for e in view.endings.shown] == [
        (ending, "Gym pass", today + timedelta(days=7))]


def test_reminders_due_and_overdue_own_first_and_by_assignee(fresh_db):
    today = date(2026, 5, 10)
    with fresh_db.connect(autocommit=True) as conn:
        client = _client(conn, "Remind")
        for text, due, assignee, done in (("overdue", today - timedelta(days=3), "t_admin", False),
                                          ("today", today, "t_sales", False),
                                          ("tomorrow", today + timedelta(days=1), "t_sales", False),
                                          ("ticked", today - timedelta(days=1), "t_sales", True)):
            conn.execute("INSERT INTO reminder (client_id, due_on, text, assignee, done) VALUES (%s, %s, %s, %s, %s)",
                         (client, due, text, assignee, done))
    assert [m.text for m in _load(fresh_db, today).reminders.shown] == ["overdue", "today"]
    assert [m.text for m in _load(fresh_db, today, login="t_sales").reminders.shown] == ["today", "overdue"]
    only = _load(fresh_db, today, assignee="t_sales")
    assert [m.text for m in only.reminders.shown] == ["today"] and only.reminders.total == 1
    assert only.reminders.shown[0].client_name.startswith("Remind")
    assert set(only.assignees) == {"t_admin", "t_sales"}


def test_postpone_tick_and_add_as_the_administrator(admin_session):
    today = date(2026, 5, 10)
    overdue = reminders.add(today - timedelta(days=3), "Call back", "t_admin")
    due = reminders.add(today, "Send the offer", "t_sales")
    # An overdue reminder put off by a day is due tomorrow, not still overdue.
    assert reminders.postpone(overdue, reminders.POSTPONE_DAYS["day"], today) == today + timedelta(days=1)
    assert reminders.postpone(due, reminders.POSTPONE_DAYS["week"], today) == today + timedelta(days=7)
    assert _load(admin_session, today).reminders.total == 0
    assert [m.text for m in _load(admin_session, today + timedelta(days=7)).reminders.shown] == ["Call back",
                                                                                                 "Send the offer"]
    reminders.tick_off(overdue)
    assert [m.id for m in _load(admin_session, today + timedelta(days=7)).reminders.shown] == [due]
    with pytest.raises(UserError):
        reminders.tick_off(overdue)
    with pytest.raises(UserError):
        reminders.add(today, "   ")
    with admin_session.connect() as conn:
        logged = conn.execute("SELECT action, new_values ->> 'due_on' FROM audit_log WHERE table_name = 'reminder' "
                              "AND row_id = %s ORDER BY id", (str(due),)).fetchall()
    assert logged == [("insert", today.isoformat()), ("update", (today + timedelta(days=7)).isoformat())]


@pytest.mark.parametrize("role", ["manager", "sales"])
def test_the_database_refuses_reminder_changes_to_readers(fresh_db, role):
    with fresh_db.connect(autocommit=True) as conn:
        reminder = conn.execute("INSERT INTO reminder (due_on, text) VALUES (CURRENT_DATE, 'x') RETURNING id"
                                ).fetchone()[0]
    with fresh_db.connect(role, autocommit=True) as conn:
        for statement in (f"UPDATE reminder SET done = true WHERE id = {reminder}",
                          f"UPDATE reminder SET due_on = due_on + 1 WHERE id = {reminder}",
                          "INSERT INTO reminder (due_on, text) VALUES (CURRENT_DATE, 'mine')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    session.bind(fresh_db.target(role))
    try:
        with pytest.raises(UserError):
            reminders.tick_off(reminder)
        with pytest.raises(UserError):
            reminders.postpone(reminder, 1, date.today())
    finally:
        from db.models import database

        database.close_all()


def test_just_gone_quiet_and_new_this_week(fresh_db):
    today = date(2026, 5, 13)  # a Wednesday
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('inactive_after_days', '30'), ('timezone', 'UTC')")
        quiet, long_quiet, recent = (_client(conn, name) for name in ("Quiet", "LongQuiet", "Recent"))
        edges = {days_ago: _client(conn, f"Edge{days_ago}") for days_ago in (29, 30, 36, 37)}
        for client, days_ago in ((quiet, 33), (long_quiet, 60), (recent, 10), *((c, d) for d, c in edges.items())):
            conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, 5)",
                         (client, f"{today - timedelta(days=days_ago)} 12:00+00"))
        conn.execute("UPDATE client SET created_at = %s WHERE id <> %s",
                     (f"{today - timedelta(days=40)} 12:00+00", recent))
        conn.execute("UPDATE client SET created_at = %s WHERE id = %s", (f"{today - timedelta(days=3)} 12:00+00",
                                                                         recent))
        monday = _client(conn, "Monday")
        conn.execute("UPDATE client SET created_at = %s WHERE id = %s", (f"{today - timedelta(days=2)} 00:30+00",
                                                                         monday))
    view = _load(fresh_db, today)
    # Quiet for the threshold's 30 days up to 36: a week of mornings on the list, then off it.
    assert [c.client_id for c in view.quiet.shown] == [edges[30], quiet, edges[36]]
    assert view.quiet.shown[1].on_day == today - timedelta(days=33)
    assert view.inactive_after_days == 30
    assert [c.client_id for c in view.new.shown] == [monday]


def test_the_birthday_lists_read_the_month_day_indexes(fresh_db):
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO client (last_name, birth_date) SELECT 'N' || g, DATE '1950-01-01' + g "
                     "FROM generate_series(1, 20000) g")
        # Children too: an analysed empty table is rightly read whole (0021 analyses both tables).
        conn.execute("INSERT INTO relative (client_id, name, birth_date) SELECT id, 'C' || id, birth_date + 9000 "
                     "FROM client")
        conn.execute("ANALYZE client")
        conn.execute("ANALYZE relative")
        keys = reads.birthday_keys(date(2026, 12, 28))
        plan = "\n".join(row[0] for row in conn.execute(
            "EXPLAIN " + reads.BIRTHDAYS_SQL, {"keys": [k for k, _ in keys], "days": [d for _, d in keys],
                                               "limit": 100}))
    assert "client_birthday" in plan and "relative_birthday" in plan
    assert "Seq Scan on client" not in plan


def test_archived_clients_are_in_no_list_and_not_counted(fresh_db):
    today = date(2026, 5, 13)
    with fresh_db.connect(autocommit=True) as conn:
        conn.execute("INSERT INTO settings (key, value) VALUES ('inactive_after_days', '30'), ('timezone', 'UTC')")
        kept, archived = _client(conn, "Kept", today), _client(conn, "Archived", today)
        for client in (kept, archived):
            conn.execute("INSERT INTO relative (client_id, name, birth_date) VALUES (%s, 'Child', %s)",
                         (client, date(2020, 5, 14)))
            conn.execute("INSERT INTO subscription (client_id, starts_on, ends_on) VALUES (%s, %s, %s)",
                         (client, today - timedelta(days=30), today + timedelta(days=2)))
            conn.execute("INSERT INTO purchase (client_id, purchased_at, amount) VALUES (%s, %s, 5)",
                         (client, f"{today - timedelta(days=31)} 12:00+00"))
            conn.execute("UPDATE client SET created_at = %s WHERE id = %s", (f"{today} 08:00+00", client))
        conn.execute("UPDATE client SET archived_at = now() WHERE id = %s", (archived,))
    with fresh_db.connect("admin") as conn:
        full = reads.load(conn, "t_admin", today=today)
        head = reads.load(conn, "t_admin", today=today, limit=1)  # counted by the count queries, not the list
    for view in (full, head):
        assert view.birthdays.total == 2 and view.endings.total == view.quiet.total == view.new.total == 1
    assert {b.client_id for b in full.birthdays.shown} == {kept}
    for counted in (full.endings, full.quiet, full.new):
        assert [row.client_id for row in counted.shown] == [kept]
