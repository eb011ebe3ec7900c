"""ASGI entry point for ``uvicorn api.main:app`` (what ``jiuyuan serve --workers N`` runs)."""

from api.app import create_app

app = create_app()
