"""Returns and after-sales: HQ (or the selling dealer) accepts, the region executes."""
