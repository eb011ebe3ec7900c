"""Where a place is: coordinates to GB/T 2260 province, city and county, offline."""

from api.compliance.geo.gazetteer import Division, Gazetteer, Place, gazetteer

__all__ = ["Division", "Gazetteer", "Place", "gazetteer"]
