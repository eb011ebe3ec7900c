"""The few SQL expressions that differ between PostgreSQL and SQLite, for the compliance
statements written as text (the set-wise batch run and the per-scan screen)."""

from __future__ import annotations

from sqlalchemy import Connection


class Dialect:
    def __init__(self, conn: Connection) -> None:
        self.pg = conn.dialect.name == "postgresql"

    @property
    def work_table(self) -> str:
        """What a run's working tables are created as. On PostgreSQL unlogged tables, not
        temporary ones: a temporary table lives in its session's own buffers, so no parallel
        worker can read it, and every statement over one ran on a single core. Created and
        dropped inside the run's transaction, they are seen by no other session (a second
        run's ``CREATE`` waits for the first to end), and a run that fails leaves none."""
        return "UNLOGGED TABLE" if self.pg else "TEMP TABLE"

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

    def second(self, column: str) -> str:
        """A stored time cut to its whole second (the truncation of :meth:`epoch`), as a
        batch run's statements compare and order times: on PostgreSQL still a timestamp
        (``date_trunc``; working out epoch seconds, a numeric, for each of 16M movements cost
        twice as much), on SQLite epoch seconds."""
        if self.pg:
            return f"date_trunc('second', {column})"
        return self.epoch(column)

    def seconds(self, second: str) -> str:
        """A :meth:`second` as epoch seconds (what Python's detector reads)."""
        if self.pg:
            return f"CAST(EXTRACT(epoch FROM {second}) AS BIGINT)"
        return second

    def moment(self, second: str) -> str:
        """A :meth:`second` as a stored time is written (to compare with one, or store it)."""
        if self.pg:
            return second
        return f"datetime({second}, 'unixepoch') || '.000000'"

    def shanghai_month(self, second: str) -> str:
        """The month, in China's time, of a :meth:`second`."""
        if self.pg:
            return f"to_char({second} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
        return f"strftime('%Y-%m', {second} + 28800, 'unixepoch')"  # UTC+8, no DST
