"""Traceability (docs/traceability.md): products, base liquors and blends, bottling batches,
storage conditions, one code per bottle (GS1 Digital Link), custody, the public scan lookup and
the EPCIS 2.0 export. Each area is its own package with endpoints, service, repository, schemas
and models."""
