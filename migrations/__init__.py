"""Alembic migrations (shipped inside the package so ``jiuyuan db upgrade`` works anywhere)."""
