"""No row is read by position in db/: columns are taken by name (db/rows.py), so a column added to or moved in
a query cannot silently shift values into the wrong field.

The check reads the source, not the running code: it follows what a module fetched (a cursor, its rows, a
function of the same module that returns them) and refuses an integer subscript of it or a tuple unpacking
of it.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

DB = Path(__file__).resolve().parent.parent / "db"

# Calls whose result is a cursor or rows from one: iterating, indexing or unpacking them reads by position.
FETCHING = {"fetchone", "fetchall", "fetchmany", "execute", "execute_sql", "executemany", "cursor", "tuples"}


def _called_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):
            return func.attr
        if isinstance(func, ast.Name):
            return func.id
    return None


class _Positional(ast.NodeVisitor):
    """Collects `line: what` for every positional read of fetched rows in one module."""

    def __init__(self, fetching_functions: set[str]) -> None:
        self.fetching = FETCHING | fetching_functions
        self.fetched: set[str] = set()  # names bound to a cursor, its rows or one of its rows
        self.found: list[str] = []

    def is_fetched(self, node: ast.AST) -> bool:
        while isinstance(node, ast.Subscript):  # rows[0] of fetched rows is a fetched row
            node = node.value
        if isinstance(node, ast.Name):
            return node.id in self.fetched
        if isinstance(node, ast.Attribute) and node.attr in ("rowcount", "description", "statusmessage"):
            return False
        return _called_name(node) in self.fetching

    def bind(self, target: ast.AST, line: int, what: str) -> None:
        if isinstance(target, ast.Name):
            self.fetched.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.found.append(f"{line}: {what} unpacked by position")

    def visit_Assign(self, node: ast.Assign) -> None:
        if self.is_fetched(node.value):
            for target in node.targets:
                self.bind(target, node.lineno, ast.unparse(node.value))
        self.generic_visit(node)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        if self.is_fetched(node.value):
            self.bind(node.target, node.lineno, ast.unparse(node.value))
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            if item.optional_vars is not None and self.is_fetched(item.context_expr):
                self.bind(item.optional_vars, node.lineno, ast.unparse(item.context_expr))
        self.generic_visit(node)

    def visit_For(self, node: ast.For) -> None:
        if self.is_fetched(node.iter):
            self.bind(node.target, node.lineno, f"a row of {ast.unparse(node.iter)}")
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if self.is_fetched(node.iter):
            self.bind(node.target, node.iter.lineno, f"a row of {ast.unparse(node.iter)}")
        self.generic_visit(node)

    def _comprehension(self, node: ast.AST) -> None:
        # The generators bind the names that the element then reads, so they are visited first.
        for generator in node.generators:  # type: ignore[attr-defined]
            self.visit(generator)
        for field in ("key", "value", "elt"):
            if hasattr(node, field):
                self.visit(getattr(node, field))

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def visit_Subscript(self, node: ast.Subscript) -> None:
        index = node.slice
        positional = (isinstance(index, ast.Constant) and isinstance(index.value, int)) or (
            isinstance(index, ast.UnaryOp) and isinstance(index.operand, ast.Constant)) or isinstance(index, ast.Slice)
        if positional and self.is_fetched(node.value):
            self.found.append(f"{node.lineno}: {ast.unparse(node)} reads a column by position")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        # Row(*row) builds a value from the columns' order, not their names.
        for argument in node.args:
            if isinstance(argument, ast.Starred) and self.is_fetched(argument.value):
                self.found.append(f"{node.lineno}: {ast.unparse(node)} spreads a row by position")
        self.generic_visit(node)


def _fetching_functions(tree: ast.Module) -> set[str]:
    """The module's functions that return or yield fetched rows, found by repeating until nothing is added
    (one may return what another fetched)."""
    functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    known: set[str] = set()
    while True:
        added = set()
        for function in functions:
            if function.name in known:
                continue
            visitor = _Positional(known)
            visitor.visit(function)
            for node in ast.walk(function):
                value = node.value if isinstance(node, (ast.Return, ast.YieldFrom, ast.Yield)) else None
                if value is not None and visitor.is_fetched(value):
                    added.add(function.name)
        if not added:
            return known
        known |= added


def positional_reads(source: str) -> list[str]:
    tree = ast.parse(source)
    visitor = _Positional(_fetching_functions(tree))
    visitor.visit(tree)
    return visitor.found


# Reads excused by path, listed exactly, so any other positional read there still fails, and checked to be
# still there, so an entry cannot outlive the code it excuses. None is left.
ELSEWHERE: dict[str, list[str]] = {}


def test_db_reads_no_column_by_position():
    found = []
    for path in sorted(DB.rglob("*.py")):
        name = path.relative_to(DB.parent).as_posix()
        reads = [line.split(": ", 1) for line in positional_reads(path.read_text("utf-8"))]
        excused = ELSEWHERE.get(name, [])
        assert sorted(what for _, what in reads if what in excused) == sorted(excused), name
        found += [f"{name}:{line}: {what}" for line, what in reads if what not in excused]
    assert found == []


@pytest.mark.parametrize("source", [
    "count = conn.execute('SELECT count(*) FROM client').fetchone()[0]",
    "row = cur.fetchone()\nname = row[1]",
    "rows = database.execute_sql(SQL).fetchall()\nfirst = rows[0][2]",
    "a, b = conn.execute(SQL).fetchone()",
    "for pid, writer in conn.execute(SQL).fetchall():\n    pass",
    "names = [name for (name,) in conn.execute(SQL)]",
    "values = {k: v for k, v in database.execute_sql(SQL)}",
    "rows = database.execute_sql(SQL).fetchall()\nresult = [Login(*row) for row in rows]",
    "row = conn.execute(SQL).fetchone()\nowner, *memberships = row",
    "def _query():\n    return database.execute_sql(SQL).fetchall()\nfound = _query()\nx = found[0][0]",
    "with conn.cursor() as cursor:\n    cursor.execute(SQL)\n    for n, key in cursor:\n        pass",
    "tail = cur.fetchone()[1:]",
])
def test_the_check_finds_each_kind_of_positional_read(source):
    assert positional_reads(textwrap.dedent(source)), source


@pytest.mark.parametrize("source", [
    "count = rows.value(conn.execute('SELECT count(*) FROM client'))",
    "row = rows.one_dict(cur)\nname = row['name']",
    "logins = rows.all_of(Login, conn.execute(SQL))",
    "parts = text.split(',')\nfirst = parts[0]",
    "cursor = database.execute_sql(SQL)\nchanged = cursor.rowcount == 1",
    "if conn.execute(SQL).fetchone() is None:\n    pass",
])
def test_the_check_leaves_reads_by_name_alone(source):
    assert positional_reads(source) == []


def test_reading_by_name_fails_loudly_when_query_and_reader_disagree(fresh_db):
    from dataclasses import dataclass

    from db import rows

    @dataclass(frozen=True)
    class Named:
        id: int
        name: str

    with fresh_db.connect() as conn:
        assert rows.all_of(Named, conn.execute("SELECT 1 AS id, 'Анна' AS name")) == [Named(1, "Анна")]
        with pytest.raises(TypeError, match="name"):
            rows.all_of(Named, conn.execute("SELECT 1 AS id, 'Анна' AS last_name"))
        assert rows.value(conn.execute("SELECT 42")) == 42
        assert rows.value(conn.execute("SELECT 1 WHERE false")) is None
        with pytest.raises(TypeError, match="one column"):
            rows.value(conn.execute("SELECT 1, 2"))
        with pytest.raises(LookupError):
            rows.the_dict(conn.execute("SELECT 1 AS id WHERE false"))
