"""Thermal masses of a cooling plant: the water in a loop, the fluid in immersion tanks, the air
and contents of a room, and what is left of each when the plant that holds its temperature
loses capacity.

A plant holds a mass at a setpoint while its running equipment can remove the heat coming in.
In normal operation that is all a quasi-steady plant needs; in a fault (a chiller trips, the
dry coolers stop, a utility outage stops the compressors until the generator is up and they
have restarted) the heat coming in exceeds what can be removed and the mass warms: C·dT/dt =
Q_in − Q_out. Its temperature is what the IT sees next, so the masses are what ride-through is
made of. They are lumped (well mixed): loop transport delays (tens of seconds to minutes) are
not resolved, which makes the supply warm at once rather than after one loop transit, a
conservative bias for the first minute of a fault.

The sizes and their sources are below; the scenario can override each mass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aidc.units import CP_AIR_J_KGK, CP_WATER_J_KGK, RHO_AIR_KG_M3, RHO_WATER_KG_M3

LOOP_TURNOVER_S = 150.0
"""Water in a chilled- or facility-water loop (piping, coils, headers, heat exchangers) as the time
its design flow takes to pass it once [s]. Chiller makers require at least 2–3 minutes of flow in
the loop (Daikin Trailblazer AGZ IOM 1206-13, p. 14: "two to three times the chilled water gpm
flow rate" in gallons) or 6 US gal per ton for process loads (Carrier AquaForce 30XA Controls,
Start-up, Operation, Service manual, p. 60), which at the AHRI rating flow of 2.4 gpm/ton is the
same 2.5 minutes. A loop holds at least this (its chillers need it against short cycling), so
this is the conservative ride-through; a loop with chilled-water storage adds its tank."""

IMMERSION_FLUID_L_PER_KW = 9.0
"""Dielectric fluid in single-phase immersion tanks per kW of design heat [L/kW], an estimate: a
42U tank with its coolant weighs ~1,900 lb, 860 kg (Green Revolution Cooling, CarnotJet FAQ), of
which ~800 kg is fluid (assumption: the steel tank ~60 kg), ~920 L at 870 kg/m³; over a tank of
~100 kW (immersion tank modules span 60–300 kW: Edarat Group, "Liquid cooling", design guide)."""

ROOM_FLOOR_M2_PER_RACK = 2.8
"""Whitespace floor per rack, racks plus their share of aisles [m²] (assumption: the common
planning figure of 25–35 ft² per rack; GRC gives ~13 ft² for an immersion tank alone)."""

ROOM_HEIGHT_M = 4.0
"""Mean height of a data hall's air volume, room plus any ceiling return plenum [m] (assumption)."""

SERVER_CONTENTS_J_K_PER_KW = 6_400.0
"""Heat capacity of the servers per kW of design heat [J/K per kW]: an 8-GPU server of 130.45 kg
at 10.2 kW maximum power (NVIDIA DGX H100 datasheet, 2023) is 12.8 kg/kW; at a mean specific heat
of 0.5 kJ/kg·K for its mix of steel (0.46), aluminium (0.90), copper (0.39) and boards (~1.1)
(assumption for the mix). It exchanges heat with the room air through the servers' own airflow
(:func:`room_step`), which gives the time constant of minutes measured for servers (Erden et al.,
ASME InterPACK 2013, V002T09A024). Walls and slabs couple over hours and are left out."""


def water_loop_capacitance_j_k(volume_l: float) -> float:
    """Heat capacity of water in a loop [J/K]: ρ·V·c_p."""
    return RHO_WATER_KG_M3 * volume_l * 1e-3 * CP_WATER_J_KGK


def water_flow_m3_s(heat_w: float, delta_t_k: float) -> float:
    """Water flow that carries ``heat_w`` [W] at a ``delta_t_k`` [K] rise [m³/s]: Q / (ρ·c_p·ΔT)
    (an energy balance on the stream)."""
    return heat_w / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * delta_t_k)


def loop_volume_l(heat_w: float, delta_t_k: float, turnover_s: float = LOOP_TURNOVER_S) -> float:
    """Water in a loop that carries ``heat_w`` at a ``delta_t_k`` rise, from its turnover time [L]."""
    return water_flow_m3_s(heat_w, delta_t_k) * turnover_s * 1e3


def air_capacitance_j_k(volume_m3: float) -> float:
    """Heat capacity of a room's air [J/K]: ρ·V·c_p."""
    return RHO_AIR_KG_M3 * volume_m3 * CP_AIR_J_KGK


@dataclass(frozen=True)
class HeldMassStep:
    """One step of a held mass: its temperature at the end and over the step [°C], and the heat
    the plant removed from it [W, mean over the step]."""

    end_c: float
    mean_c: float
    removed_w: float


def held_mass_step(
    temp_c: float,
    setpoint_c: float,
    heat_in_w: float,
    capacity_w: float,
    capacitance_j_k: float,
    dt_s: float,
) -> HeldMassStep:
    """A lumped mass that a plant holds at ``setpoint_c`` with at most ``capacity_w`` of removal.

    C·dT/dt = Q_in − Q_out. Above the setpoint the plant removes all it can (``capacity_w``);
    at the setpoint it removes what comes in, up to its capacity; it never cools the mass below
    the setpoint. With the heat in and the capacity constant over the step this is exact: the
    temperature moves linearly at (Q_in − capacity)/C until it reaches the setpoint (then stays)
    or the step ends. So a step of 30 s books the same as thirty of 1 s.
    """
    if dt_s <= 0.0:
        raise ValueError(f"dt_s = {dt_s!r} s: must be > 0")
    capacity_w = max(capacity_w, 0.0)
    rate_k_s = (heat_in_w - capacity_w) / capacitance_j_k
    if temp_c <= setpoint_c and rate_k_s <= 0.0:  # held: the plant removes what comes in
        return HeldMassStep(setpoint_c, setpoint_c, heat_in_w)
    start = max(temp_c, setpoint_c)
    if rate_k_s >= 0.0:  # warming at the net rate
        end = start + rate_k_s * dt_s
        return HeldMassStep(end, start + 0.5 * rate_k_s * dt_s, capacity_w)
    reach_s = min((start - setpoint_c) / -rate_k_s, dt_s)  # cooling back to the setpoint
    end = start + rate_k_s * reach_s
    mean = (reach_s * 0.5 * (start + end) + (dt_s - reach_s) * setpoint_c) / dt_s
    removed = (reach_s * capacity_w + (dt_s - reach_s) * heat_in_w) / dt_s
    return HeldMassStep(end, mean, removed)


@dataclass(frozen=True)
class RoomStep:
    """One step of a room: its air and its servers' mass at the end [°C], the air's mean over the
    step [°C], and the heat the coils removed [W, mean]."""

    air_c: float
    servers_c: float
    air_mean_c: float
    removed_w: float


def room_step(
    air_c: float,
    servers_c: float,
    target_c: float,
    heat_in_w: float,
    capacity_w: float,
    air_j_k: float,
    servers_j_k: float,
    coupling_w_k: float,
    dt_s: float,
) -> RoomStep:
    """A room's air held at ``target_c`` by coils of at most ``capacity_w``, with the servers' mass
    exchanging heat with it through their airflow (``coupling_w_k`` = ṁ·c_p of the servers' air,
    an effectiveness of 1: the air leaves a server at its parts' temperature; the lumped-server idea
    of Pardey et al., "Proposal for standard compact server model for transient data center
    simulations", ASHRAE Trans. 121(1), 2015). The heat the IT gives off enters the air.

    Two regimes, each exact for constant inputs. Held: the coils keep the air at the target and
    the servers relax to it with time constant C_s/G (while the coils can take the heat and what
    the servers give back). Saturated: the coils remove ``capacity_w``, and the room's energy
    C_a·T_a + C_s·T_s grows at Q − capacity while the air–server difference relaxes with rate
    G·(1/C_a + 1/C_s) to its steady value. A saturated step whose air falls to the target ends
    held from that instant (found by bisection)."""
    if dt_s <= 0.0:
        raise ValueError(f"dt_s = {dt_s!r} s: must be > 0")
    g, ca, cs = coupling_w_k, air_j_k, servers_j_k
    if g <= 0.0 or cs <= 0.0:  # no server airflow (or no servers): the air alone
        air = held_mass_step(air_c, target_c, heat_in_w, capacity_w, ca, dt_s)
        return RoomStep(air.end_c, servers_c, air.mean_c, air.removed_w)
    capacity_w = max(capacity_w, 0.0)
    if air_c <= target_c and heat_in_w + g * max(servers_c - target_c, 0.0) <= capacity_w:
        return _room_held(servers_c, target_c, heat_in_w, cs, g, dt_s)
    saturated = _RoomSaturated(air_c, servers_c, heat_in_w - capacity_w, ca, cs, g)
    end_air, end_servers = saturated.at(dt_s)
    if end_air >= target_c:
        return RoomStep(end_air, end_servers, saturated.mean_air(dt_s), capacity_w)
    lo, hi = 0.0, dt_s  # the air reaches the target within the step: then held
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if saturated.at(mid)[0] > target_c else (lo, mid)
    t = hi
    _, servers_t = saturated.at(t)
    rest = dt_s - t
    held = _room_held(servers_t, target_c, heat_in_w, cs, g, rest) if rest > 0.0 else None
    if held is None:
        return RoomStep(target_c, servers_t, saturated.mean_air(dt_s), capacity_w)
    mean = (saturated.mean_air(t) * t + target_c * rest) / dt_s
    removed = (capacity_w * t + held.removed_w * rest) / dt_s
    return RoomStep(target_c, held.servers_c, mean, removed)


def _room_held(
    servers_c: float, target_c: float, heat_in_w: float, cs: float, g: float, dt_s: float
) -> RoomStep:
    """The air at the target; the servers relax to it, giving their heat to the coils."""
    x = g * dt_s / cs
    decay = math.exp(-x)
    gap = servers_c - target_c
    end = target_c + gap * decay
    # the servers' heat given up over the step, as a mean power: C_s·(T_s0 − T_s1)/dt
    released_w = cs * gap * (1.0 - decay) / dt_s
    return RoomStep(target_c, end, target_c, heat_in_w + released_w)


@dataclass(frozen=True)
class _RoomSaturated:
    """The room with a constant net heat ``net_w`` (in − removed): energy grows linearly, the
    air–server difference relaxes exponentially."""

    air_c: float
    servers_c: float
    net_w: float
    ca: float
    cs: float
    g: float

    @property
    def _k(self) -> float:
        return self.g * (1.0 / self.ca + 1.0 / self.cs)

    @property
    def _gap_ss(self) -> float:
        return self.net_w * self.cs / (self.g * (self.ca + self.cs))

    def at(self, t: float) -> tuple[float, float]:
        total = self.ca + self.cs
        energy = self.ca * self.air_c + self.cs * self.servers_c + self.net_w * t
        gap = self._gap_ss + (self.air_c - self.servers_c - self._gap_ss) * math.exp(-self._k * t)
        return (energy + self.cs * gap) / total, (energy - self.ca * gap) / total

    def mean_air(self, t: float) -> float:
        """The air's mean over ``[0, t]`` [°C]."""
        if t <= 0.0:
            return self.air_c
        total = self.ca + self.cs
        energy_mean = self.ca * self.air_c + self.cs * self.servers_c + 0.5 * self.net_w * t
        x = self._k * t
        share = -math.expm1(-x) / x if x > 0.0 else 1.0
        gap_mean = self._gap_ss + (self.air_c - self.servers_c - self._gap_ss) * share
        return (energy_mean + self.cs * gap_mean) / total
