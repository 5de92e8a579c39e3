"""Cooling control: setpoint specs, baseline controllers and the safety shield."""
