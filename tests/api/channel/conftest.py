from tests.api.channel.world import world

__all__ = ["world"]
