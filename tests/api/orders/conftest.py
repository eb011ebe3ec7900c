from tests.api.channel.world import world
from tests.api.orders.shop import shop

__all__ = ["shop", "world"]
