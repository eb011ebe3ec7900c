from tests.api.channel.world import world
from tests.api.orders.shop import shop
from tests.api.shipments.flow import flow

__all__ = ["flow", "shop", "world"]
