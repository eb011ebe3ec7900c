"""The request transaction commits before the response leaves.

A dependency with ``yield`` ends, by default, after the response has been sent: a client
would get its 201 before the COMMIT, a request right after it could miss the row, and a
failed COMMIT would follow a success already answered. Every dependency that yields a
transaction is therefore declared ``scope="function"``; this walks every route to prove it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute


def _yielding(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        call = sub.call
        if call is not None and (
            inspect.isgeneratorfunction(call) or inspect.isasyncgenfunction(call)
        ):
            yield sub
        yield from _yielding(sub)


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # include_router's wrapper
        if included is not None:
            yield from _api_routes(included.routes)


def test_every_yielding_dependency_ends_before_the_response(client: TestClient) -> None:
    routes = list(_api_routes(client.app.routes))  # type: ignore[attr-defined]
    checked, late = 0, []
    for route in routes:
        for dep in _yielding(route.dependant):
            checked += 1
            if dep.scope != "function":
                late.append(f"{sorted(route.methods)} {route.path}: {dep.call.__name__}")  # type: ignore[union-attr]
    assert checked > 50, "the walk found too few transaction dependencies to mean anything"
    assert late == [], "commits after the response is sent:\n" + "\n".join(late)
