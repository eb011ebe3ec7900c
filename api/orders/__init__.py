"""Purchase orders: dealer → HQ and store → dealer, one machinery."""
