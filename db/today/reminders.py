"""The administrator's reminder actions on the Today screen: tick off, postpone, add.

The database is what refuses the other roles (only clientbase_admin may write reminders, 0003/0008); a refusal
comes back as the card's sentence through db/card/tx.writing.
"""

from __future__ import annotations

from datetime import date

from db import rows
from db.card.tx import writing
from db.errors import UserError, ValidationError
from db.i18n import N_
from db.models import database

POSTPONE_DAYS = {"day": 1, "week": 7}

_GONE = N_("This reminder is no longer open; someone may have ticked it off or deleted it.")


def tick_off(reminder_id: int) -> None:
    with writing():
        cursor = database.execute_sql(
            "UPDATE public.reminder SET done = true, done_at = now() WHERE id = %s AND NOT done", (reminder_id,))
        if cursor.rowcount == 0:
            raise UserError(_GONE)


def postpone(reminder_id: int, days: int, today: date) -> date:
    """Moves the reminder `days` after its due date, or after today when it is overdue (an overdue reminder
    postponed by a day is due tomorrow, not still overdue). Returns the new due date."""
    with writing():
        due = rows.value(database.execute_sql(
            "UPDATE public.reminder SET due_on = greatest(due_on, %s::date) + %s WHERE id = %s AND NOT done "
            "RETURNING due_on", (today, days, reminder_id)))
        if due is None:
            raise UserError(_GONE)
        return due


def add(due_on: date, text: str, assignee: str = "", client_id: int | None = None) -> int:
    if not text.strip():
        raise ValidationError("text", N_("This field is required."))
    with writing():
        return rows.value(database.execute_sql(
            "INSERT INTO public.reminder (client_id, due_on, text, assignee) VALUES (%s, %s, %s, nullif(%s, '')) "
            "RETURNING id", (client_id, due_on, text.strip(), assignee.strip())))
