"""The site as a Brick model: every piece of equipment and every simulated point with its QUDT unit
and a reference to its time series in the run store."""
