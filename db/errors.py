"""Errors a user can cause or fix, carrying a translatable sentence; everything else is a bug."""

from __future__ import annotations

from db.i18n import t


class UserError(Exception):
    """A mistake or a condition the user can act on; its text is one plain sentence."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(key)

    def __str__(self) -> str:
        # Translated when shown, not when raised: db/ marks the sentence, the edge says it in the user's language.
        return t(self.key, **self.values)


class ValidationError(UserError):
    """Bad input in one field; `field` names it so that the editor can show the reason beside it."""

    def __init__(self, field: str, key: str, /, **values: object) -> None:
        self.field = field
        super().__init__(key, **values)


class SchemaMismatch(UserError):
    pass


class ConflictError(Exception):
    """Someone else saved the row first; carries the row as it is now in the database."""

    def __init__(self, current: object) -> None:
        self.current = current
        super().__init__("the row was changed by someone else")


def driver_error(exc: BaseException) -> BaseException:
    """The psycopg exception behind one that peewee re-raised under its own class."""
    return getattr(exc, "orig", None) or exc


def is_permission_denied(exc: BaseException) -> bool:
    import psycopg

    return isinstance(driver_error(exc), psycopg.errors.InsufficientPrivilege)
