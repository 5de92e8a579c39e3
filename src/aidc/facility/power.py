"""Power chain: medium-voltage transformer → UPS → PDU → IT, or an 800 V DC bus, plus the
mechanical (cooling) and other loads.

Loss models are quadratic in load, the standard form for power-conversion equipment: a no-load
part (magnetizing, control, fans), a part proportional to load (switching), and an I²R part.
"""

from __future__ import annotations

from dataclasses import dataclass


def conversion_loss_quadratic(
    load_w: float, rated_w: float, no_load_frac: float, proportional_frac: float, square_frac: float
) -> float:
    """Losses of a converter or transformer [W]: P_rated·(c0 + c1·x + c2·x²), x = load/rated.

    Source: the loss model behind IEC 62040-3 UPS efficiency curves and the no-load/load-loss
    split of transformers (IEEE C57.12.00); coefficients per device below.
    """
    if rated_w <= 0.0:
        return 0.0
    x = max(load_w, 0.0) / rated_w
    return rated_w * (no_load_frac + proportional_frac * x + square_frac * x * x)


UPS_DOUBLE_CONVERSION = (0.0130, 0.0080, 0.0153)
"""Loss coefficients (c0, c1, c2) of a double-conversion UPS, fitted to 94.0 / 96.0 / 96.5 %
efficiency at 25 / 50 / 100 % load: the shape of the measured curves in Ton & Fortenbery,
"UPS efficiency" (LBNL / EPRI, 2005, Fig. 7) at the level of current large double-conversion
units."""

TRANSFORMER_MV_LV = (0.0020, 0.0, 0.0080)
"""Medium- to low-voltage dry-type transformer: 0.2 % no-load and 0.8 % full-load copper
losses of rating, i.e. 99.2 % at half load, the level of the US DOE 2016 efficiency standard
(10 CFR 431.196) for 2,500 kVA medium-voltage dry-type units."""

DC_800V_RECTIFIER = (0.0050, 0.0050, 0.0100)
"""Facility rectifier (solid-state transformer) feeding an 800 V DC bus: ~98 % at half load,
the efficiency class NVIDIA's 800 V DC white paper ("NVIDIA 800 VDC Architecture", 2025)
assumes when it claims up to 5 % end-to-end gain over 54 V AC distribution."""

TRANSFORMER_RATING_PER_IT = 1.6
"""Transformer rating over the rated IT load: it also carries the mechanical load, up to ~0.5 of
IT in an air-cooled hall at peak (a design PUE near 1.5), plus margin (assumption)."""

DC_DC_RACK_EFFICIENCY = 0.985
"""800 V → rack-voltage DC/DC converter efficiency (same source; high-ratio LLC converters)."""


@dataclass
class PowerChainOutputs:
    it_w: float
    transformer_loss_w: float
    ups_loss_w: float
    pdu_loss_w: float
    cooling_w: float
    other_w: float

    @property
    def distribution_loss_w(self) -> float:
        return self.transformer_loss_w + self.ups_loss_w + self.pdu_loss_w

    @property
    def facility_w(self) -> float:
        return self.it_w + self.distribution_loss_w + self.cooling_w + self.other_w


@dataclass
class PowerChain:
    """Transformer, UPS and PDU (AC) or rectifier and DC/DC (800 V DC) between grid and IT.

    Cooling and other loads are fed from the transformer but not through the UPS (the common
    arrangement: mechanical loads ride on generators, not on the UPS). Ratings are the design IT
    load times ``capacity_margin``.
    """

    design_it_w: float
    distribution: str  # "ac" or "dc_800v"
    pdu_efficiency: float
    other_loads_w: float
    capacity_margin: float = 1.25

    def __post_init__(self) -> None:
        self.rated_it_w = self.design_it_w * self.capacity_margin

    def config(self) -> dict[str, object]:
        return {
            "distribution": self.distribution,
            "rated_it_w": self.rated_it_w,
            "pdu_efficiency": self.pdu_efficiency,
            "other_loads_w": self.other_loads_w,
        }

    def step(self, it_w: float, cooling_w: float, energized_frac: float = 1.0) -> PowerChainOutputs:
        """One step's losses at the step's mean loads [W]. ``energized_frac``: the share of the step
        the transformer is fed (by the utility or a generator); while it is not, the UPS carries
        the IT and the other loads and the transformer's own losses are gone."""
        if self.distribution == "dc_800v":
            dcdc_loss = it_w * (1.0 / DC_DC_RACK_EFFICIENCY - 1.0)
            rect_in = it_w + dcdc_loss
            rect_loss = conversion_loss_quadratic(rect_in, self.rated_it_w, *DC_800V_RECTIFIER)
            ups_loss, pdu_loss = rect_loss, dcdc_loss
        else:
            pdu_loss = it_w * (1.0 / self.pdu_efficiency - 1.0)
            ups_loss = conversion_loss_quadratic(it_w + pdu_loss, self.rated_it_w, *UPS_DOUBLE_CONVERSION)
        other = self.other_loads_w * energized_frac
        through = it_w + pdu_loss + ups_loss + cooling_w + other
        rated_total = self.rated_it_w * TRANSFORMER_RATING_PER_IT
        transformer_loss = conversion_loss_quadratic(through, rated_total, *TRANSFORMER_MV_LV)
        transformer_loss *= energized_frac
        return PowerChainOutputs(
            it_w=it_w,
            transformer_loss_w=transformer_loss,
            ups_loss_w=ups_loss,
            pdu_loss_w=pdu_loss,
            cooling_w=cooling_w,
            other_w=other,
        )
