"""One place where the workers of a screen or modal that calls the database come back.

A method decorated with `database_work` runs in a thread worker and returns a small Message (or None). The
message is posted to the screen once the worker has succeeded, and handled like any other; a cancelled
worker's result is dropped, since a newer request superseded it or the screen went away. A failure goes to
`worker_failed`, which tells four cases apart:

- a cancelled read (`session.Cancelled`): ignored, like a cancelled worker;
- `ConnectionLost`, the one way db/ says the database is out of reach: the app's banner (`connection_lost`);
- a `UserError`: its sentence, shown by `show_user_error`, which a screen overrides to say it where it
  shows its messages;
- anything else is a bug and is raised again, into Textual's crash path: never turned into text.

A screen overrides `worker_failed` only for the errors that are its own special case (the card's conflict
dialog), and passes the rest on to this one.
"""

from __future__ import annotations

import functools
from typing import Callable, TypeVar

from textual import work
from textual.message import Message
from textual.worker import Worker, WorkerState

from db import session
from db.errors import ConnectionLost, UserError
from db.session import Cancelled

# The name of every worker started by `database_work`, so that the screen's other workers are not taken for
# database calls (Textual names a worker after its method otherwise).
WORKER_NAME = "database"

Job = TypeVar("Job", bound=Callable[..., Message | None])


def database_work(*, group: str, exclusive: bool = True) -> Callable[[Job], Job]:
    """Runs the decorated method in a thread worker of `group`; with `exclusive`, a new call cancels the
    group's running one. The method returns the Message to post, or None when there is nothing to say."""

    def decorator(method: Job) -> Job:
        @functools.wraps(method)
        def guarded(self, *args: object, **kwargs: object) -> Message | None:
            # Work that reaches the database by paths other than session.read and db/card/tx (an import job,
            # a segment's save) meets the same boundary, so that a lost connection arrives here one way only.
            with session.guarded():
                result = method(self, *args, **kwargs)
            if result is not None and not isinstance(result, Message):
                raise TypeError(f"{method.__qualname__} returned {type(result).__name__}, not a Message")
            return result

        return work(thread=True, exclusive=exclusive, group=group, exit_on_error=False, name=WORKER_NAME)(guarded)

    return decorator


class DatabaseScreen:
    """Mixin for a Screen or ModalScreen that calls the database: put it first among the bases."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self or worker.name != WORKER_NAME:
            return
        if event.state == WorkerState.SUCCESS and worker.result is not None:
            self.post_message(worker.result)
        elif event.state == WorkerState.ERROR:
            self.worker_failed(worker.error)

    def worker_failed(self, error: BaseException) -> None:
        if isinstance(error, Cancelled):
            return
        if isinstance(error, ConnectionLost):
            self.connection_lost()
        elif isinstance(error, UserError):
            self.show_user_error(error)
        else:
            raise error

    def connection_lost(self) -> None:
        """The app shows its banner and reconnects; a screen may first say what became of its work."""
        self.app.connection_lost()

    def show_user_error(self, error: UserError) -> None:
        self.notify(str(error), severity="error")
