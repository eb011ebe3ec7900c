"""Evidence bundles: one JSON file per alert that anyone can verify offline."""
