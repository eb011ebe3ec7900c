"""Every traceability router, for one registration in ``api.app``."""

from __future__ import annotations

from fastapi import APIRouter

from api.trace.batches.endpoints import router as batches
from api.trace.blending.endpoints import router as blending
from api.trace.codes.endpoints import router as codes
from api.trace.epcis.endpoints import router as epcis
from api.trace.products.endpoints import router as products
from api.trace.resolver.endpoints import router as resolver
from api.trace.storage.endpoints import router as storage

router = APIRouter()
for part in (products, blending, batches, codes, storage, epcis, resolver):
    router.include_router(part)
