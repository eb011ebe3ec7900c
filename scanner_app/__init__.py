"""The browser front ends (consumer scan page, clerk app, compliance console), served at /app/."""
