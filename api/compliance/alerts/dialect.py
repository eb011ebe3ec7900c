"""The few SQL expressions that differ between PostgreSQL and SQLite, for the compliance
statements written as text (the set-wise batch run and the per-scan screen)."""

from __future__ import annotations

from sqlalchemy import Connection


class Dialect:
    def __init__(self, conn: Connection) -> None:
        self.pg = conn.dialect.name == "postgresql"

    def epoch(self, column: str) -> str:
        if self.pg:
            return f"CAST(FLOOR(EXTRACT(epoch FROM {column})) AS BIGINT)"
        return f"CAST(strftime('%s', {column}) AS INTEGER)"

    def joined(self, column: str) -> str:
        """The column's values in a group, comma-separated (an aggregate)."""
        if self.pg:
            return f"string_agg({column}, ',')"
        return f"group_concat({column}, ',')"

    def first_of(self, column: str) -> str:
        if self.pg:
            return f"({column}::json ->> 0)"
        return f"json_extract({column}, '$[0]')"

    def fence(self) -> str:
        """Ends a subquery the planner must not fold into its caller (its row's expressions
        are computed once, not once per use)."""
        return "OFFSET 0" if self.pg else "LIMIT -1 OFFSET 0"

    def binary(self, column: str) -> str:
        """Code-point order, as Python sorts strings."""
        return f'{column} COLLATE "C"' if self.pg else column

    def timestamp(self, seconds: str) -> str:
        if self.pg:
            return f"to_timestamp({seconds})"
        return f"datetime({seconds}, 'unixepoch') || '.000000'"

    def shanghai_month(self, seconds: str) -> str:
        if self.pg:
            return f"to_char(to_timestamp({seconds}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
        return f"strftime('%Y-%m', {seconds} + 28800, 'unixepoch')"  # UTC+8, no DST
