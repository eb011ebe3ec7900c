"""A whole number in a request body is a JSON integer: ``true`` is not 1 fen, nor ``"12"`` twelve
cases. Pydantic's lax mode takes both; every integer field of every request body refuses them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from api.app import create_app
from api.config import Settings


def _models() -> dict[str, list[type[BaseModel]]]:
    found: dict[str, list[type[BaseModel]]] = {}
    todo: list[type[BaseModel]] = [BaseModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.setdefault(sub.__name__, []).append(sub)
            todo.append(sub)
    return found


def _named(spec: Any) -> list[str]:
    """The schemas a piece of the OpenAPI document refers to."""
    return re.findall(r"#/components/schemas/(\w+)", str(spec))


def _integer_fields(settings: Settings) -> list[tuple[str, str, Any]]:
    """(model, field, FieldInfo) of every integer field reachable from a request body, as the
    OpenAPI document names them."""
    doc = create_app(settings).openapi()
    schemas = doc["components"]["schemas"]
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    todo = [name for op in operations for name in _named(op.get("requestBody"))]
    seen: set[str] = set()
    fields = []
    classes = _models()
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        for prop, spec in schemas[name].get("properties", {}).items():
            todo += _named(spec)
            if "'integer'" in str(spec) and "'enum'" not in str(spec):
                for model in classes.get(name, []):
                    if prop in model.model_fields:
                        fields.append((name, prop, model.model_fields[prop]))
    return fields


def test_every_integer_of_a_request_body_refuses_booleans_text_and_fractions(
    tmp_path: Path,
) -> None:
    fields = _integer_fields(Settings(data_dir=tmp_path, log_origin="test.jiuyuan.local/log"))
    assert {("TopUpIn", "paid_fen"), ("PriceIn", "case_price_fen"), ("GenerateIn", "count")} <= {
        (m, f) for m, f, _ in fields
    }
    lax = []
    for model, name, info in fields:
        adapter = TypeAdapter(Annotated[info.annotation, info])
        for value in (True, "12", 12.0):
            try:
                adapter.validate_python(value)
            except ValidationError:
                continue
            lax.append(f"{model}.{name} took {value!r}")
    assert lax == []
