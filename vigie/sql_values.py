"""One value out of a DuckDB query: the first column of its first row.

Why a helper: DuckDB types ``fetchone()`` as optional (a query may return no row), so
``con.execute(...).fetchone()[0]`` does not type-check. An aggregate (``count(*)``, ``min``,
``current_database()``) always returns one row; this says so once, and fails with a clear error
instead of ``TypeError: 'NoneType' object is not subscriptable`` if a query ever returns none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb


def first_value(result: duckdb.DuckDBPyConnection) -> Any:  # a SQL value of any type
    """The first column of the first row of an executed query (``con.execute(...)``)."""
    row = result.fetchone()
    if row is None:
        raise LookupError("the query returned no row where one was expected")
    return row[0]
