"""Stock per warehouse per SKU: on hand, reserved, available; reservations that never oversell."""
