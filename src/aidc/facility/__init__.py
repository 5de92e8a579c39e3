"""Cooling plants, power chain, weather."""
