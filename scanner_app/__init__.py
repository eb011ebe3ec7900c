"""The browser front ends (consumer scan page, clerk app, compliance console), served at /app/."""

from pathlib import Path

# jsQR's browser build, installed from npm by `make node-deps` (package-lock.json).
JSQR_DIST = Path(__file__).resolve().parent.parent / "node_modules" / "jsqr" / "dist"
# Swagger UI for the API docs at /docs, from npm the same way (served locally: the docs work
# on a network that reaches no CDN).
SWAGGER_UI_DIST = Path(__file__).resolve().parent.parent / "node_modules" / "swagger-ui-dist"
