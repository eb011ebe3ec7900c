"""``jiuyuan stored-value …``: the auditor's check that the books are the ledger's projection."""

from __future__ import annotations

import typer

from api.config import get_settings

stored_value_app = typer.Typer(help="Member stored value.", no_args_is_help=True)


@stored_value_app.command("check")
def check() -> None:
    """Rebuild every balance from the ledger alone and compare it with the stored books.

    Exits 0 when every journal entry balances and every account and member balance equals its
    projection from the ledger; otherwise 1, listing the differences.
    """
    from api.db import Database, is_sqlite
    from api.stored_value.projection import check as run_check

    db = Database(get_settings().resolved_database_url)
    try:
        options = {} if is_sqlite(db.engine) else {"isolation_level": "REPEATABLE READ"}
        with db.engine.connect().execution_options(**options) as conn, conn.begin():
            result = run_check(conn)
    finally:
        db.dispose()
    for problem in result.problems:
        typer.echo(f"MISMATCH {problem}", err=True)
    if result.problems:
        raise typer.Exit(1)
    typer.echo(
        f"OK: {result.entries} stored-value ledger entries (+{result.staged} staged) balance and "
        "equal the stored books"
    )
