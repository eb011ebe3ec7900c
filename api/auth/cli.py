"""``jiuyuan users``: people's accounts from the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from api.config import get_settings

users_app = typer.Typer(
    help="People's accounts (log in at POST /v1/auth/token).", no_args_is_help=True
)


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="login name: a-z, 0-9, '.', '_', '-'")],
    role: Annotated[
        str,
        typer.Option(
            help="hq_admin, region_manager, dealer_staff, store_clerk or compliance_officer"
        ),
    ],
    scope: Annotated[
        str | None, typer.Option(help="party id the role acts for (region, dealer or store)")
    ] = None,
    display_name: Annotated[str | None, typer.Option(help="name shown to people")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create a user and print its id (the password is stored only as an Argon2id hash)."""
    from api.auth.users import create_user
    from api.db import Database
    from api.errors import AppError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    db = Database(get_settings().resolved_database_url)
    try:
        with db.writer.begin() as conn:  # a write: on SQLite, its lock taken up front
            user = create_user(
                conn, username, role, password, scope=scope, display_name=display_name
            )
    except AppError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2) from None
    finally:
        db.dispose()
    typer.echo(user.user_id)
