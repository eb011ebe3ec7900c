"""Reports: diversion rates, the region-to-region flow matrix, CSV and an SVG chart."""
