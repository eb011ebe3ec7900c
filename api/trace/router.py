"""Every traceability router but the resolver's (``api.app`` registers that one first: it is
the busiest public path, and routes are matched in order)."""

from __future__ import annotations

from fastapi import APIRouter

from api.trace.batches.endpoints import router as batches
from api.trace.blending.endpoints import router as blending
from api.trace.codes.endpoints import router as codes
from api.trace.epcis.endpoints import router as epcis
from api.trace.products.endpoints import router as products
from api.trace.storage.endpoints import router as storage

router = APIRouter()
for part in (products, blending, batches, codes, storage, epcis):
    router.include_router(part)
