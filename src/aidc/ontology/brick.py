"""A scenario (or a run of it) as a Brick 1.5 model: the site's spaces, IT, cooling and power chain,
and every simulated point with its QUDT unit and its time series in the run store.

Brick lacks the AI site's own equipment; :data:`AIDC_CLASSES` adds it in the ``aidc:`` namespace as
subclasses of the nearest Brick class (a GPU is ICT hardware, a CDU and a cold plate are heat
exchangers, a UPS, a PDU and a generator electrical equipment). Flow runs along ``brick:feeds``
(coolant and power, upstream to downstream), each link also an ASHRAE 223P ``s223:connectedTo``
(the symmetric equipment-to-equipment relation, not 223P's connection-point model).

Layout conventions where the twin is lumped (it simulates a hall's plant as one loop and its
power chain as one path per feed; the model needs a topology to answer "what does this feed"):
one CDU with its pump per row of a liquid hall, one immersion tank per rack, one PDU per row and
power path, one CRAH bank per air hall. Points carry a ``ref:TimeseriesReference`` whose id is
``TABLE/COLUMN`` (plus ``/HALL`` and ``/GPU`` for hall and per-GPU series), with ``aidc:table``,
``aidc:column``, ``aidc:hall`` and ``aidc:gpu`` for machine joins; with a run, ``ref:storedAt`` names
its DuckDB file. Per-GPU series exist only with ``telemetry.per_gpu``; GPU points without it have
no time series (the live exporter has them under DCGM names).
"""

from __future__ import annotations

from importlib import resources
from urllib.parse import quote

import rdflib
from rdflib.namespace import RDF, RDFS

from aidc.ontology.points import AIDC, BRICK, FACILITY_POINTS, GPU_POINTS, HALL_POINTS, PointSpec
from aidc.ontology.units import QUDT_UNITS
from aidc.scenario import HallConfig, Scenario
from aidc.units import unit_of

REF = rdflib.Namespace("https://brickschema.org/schema/Brick/ref#")
REC = rdflib.Namespace("https://w3id.org/rec#")
S223 = rdflib.Namespace("http://data.ashrae.org/standard223#")
UNIT = rdflib.Namespace("http://qudt.org/vocab/unit/")

AIDC_CLASSES: dict[str, str] = {
    "GPU": "ICT_Hardware",
    "NVLink_Domain": "Collection",
    "Rack_Row": "rec:Zone",
    "Cold_Plate": "Heat_Exchanger",
    "CDU": "Heat_Exchanger",
    "Immersion_Tank": "HVAC_Equipment",
    "UPS": "Electrical_Equipment",
    "PDU": "Electrical_Equipment",
    "Generator": "Electrical_Equipment",
    "GPU_Temperature_Sensor": "Temperature_Sensor",
    "GPU_Power_Sensor": "Electric_Power_Sensor",
    "GPU_Clock_Sensor": "Frequency_Sensor",
    "Efficiency_Sensor": "Sensor",
    "Count_Sensor": "Sensor",
    "Throughput_Sensor": "Sensor",
    "Carbon_Intensity_Sensor": "Sensor",
    "Price_Sensor": "Sensor",
    "State_Of_Charge_Sensor": "Sensor",
}
"""aidc's classes → the Brick class each refines (``rec:``: a RealEstateCore space class, which
Brick 1.4+ uses for locations in place of its own)."""


class SiteModel:
    """The graph being built, with the entities made so far by name."""

    def __init__(self, site: str, stored_at: str | None) -> None:
        self.g = rdflib.Graph()
        self.ns = rdflib.Namespace(f"urn:aidc:site:{quote(site, safe='')}/")
        self.stored_at = stored_at
        self.by_name: dict[str, rdflib.URIRef] = {}
        for prefix, ns in (
            ("brick", BRICK),
            ("rec", REC),
            ("ref", REF),
            ("s223", S223),
            ("unit", UNIT),
            ("aidc", AIDC),
        ):
            self.g.bind(prefix, ns)
        self.g.bind("site", self.ns)
        for name, parent in AIDC_CLASSES.items():
            self.g.add((AIDC[name], RDF.type, rdflib.OWL.Class))
            base = REC[parent[4:]] if parent.startswith("rec:") else BRICK[parent]
            self.g.add((AIDC[name], RDFS.subClassOf, base))

    def entity(
        self, name: str, cls: rdflib.URIRef, part_of: str | None = None, located: str | None = None
    ) -> rdflib.URIRef:
        """A node of class ``cls``, part of (a space in a space, equipment in equipment or a
        collection) or located in (equipment in a space) another, by name."""
        # one namespace for the whole site: a "/" in the local name would make every entity its own
        # namespace prefix, and the Turtle writer quadratic in them
        node = self.ns[quote(name.replace("/", "."), safe="-_.")]
        self.g.add((node, RDF.type, cls))
        self.g.add((node, RDFS.label, rdflib.Literal(name)))
        if part_of is not None:
            self.g.add((node, BRICK.isPartOf, self.by_name[part_of]))
        if located is not None:
            self.g.add((node, BRICK.hasLocation, self.by_name[located]))
        self.by_name[name] = node
        return node

    def includes(self, collection: str, equipment: str) -> None:
        self.g.add((self.by_name[collection], REC.includes, self.by_name[equipment]))

    def feeds(self, upstream: str, downstream: str) -> None:
        a, b = self.by_name[upstream], self.by_name[downstream]
        self.g.add((a, BRICK.feeds, b))
        self.g.add((a, S223.connectedTo, b))

    def point(self, owner: str, spec: PointSpec, table: str, hall: str | None = None, gpu: int | None = None):
        """A point of ``owner`` for ``table``'s column ``spec.column`` (of one hall, one GPU)."""
        key = "/".join(str(x) for x in (table, spec.column, hall, gpu) if x is not None)
        node = self.entity(f"{owner}/{spec.column}", spec.cls)
        self.g.add((node, BRICK.isPointOf, self.by_name[owner]))
        unit = unit_of(spec.column)
        if unit in QUDT_UNITS:
            self.g.add((node, BRICK.hasUnit, UNIT[QUDT_UNITS[unit]]))
        elif unit:
            self.g.add((node, AIDC.unitText, rdflib.Literal(unit)))
        if spec.stored:
            ref = rdflib.BNode()
            self.g.add((node, REF.hasExternalReference, ref))
            self.g.add((ref, RDF.type, REF.TimeseriesReference))
            self.g.add((ref, REF.hasTimeseriesId, rdflib.Literal(key)))
            self.g.add((ref, AIDC.table, rdflib.Literal(table)))
            self.g.add((ref, AIDC.column, rdflib.Literal(spec.column)))
            if hall is not None:
                self.g.add((ref, AIDC.hall, rdflib.Literal(hall)))
            if gpu is not None:
                self.g.add((ref, AIDC.gpu, rdflib.Literal(gpu)))
            if self.stored_at is not None:
                self.g.add((ref, REF.storedAt, rdflib.Literal(self.stored_at)))
        return node


def brick_model(
    scenario: Scenario, columns: dict[str, list[str]] | None = None, stored_at: str | None = None
):
    """The Brick model of ``scenario`` as an rdflib graph. ``columns`` (table → its columns, from a
    run) limits the time-series references to what the run stored; without it every point the
    scenario would store gets one. ``stored_at`` is the DuckDB file the series are in."""
    m = SiteModel(scenario.name, stored_at)
    m.entity("site", REC.Site)
    m.entity("meter", BRICK.Building_Electrical_Meter, located="site")
    _power_chain(m, scenario, [_hall(m, h) for h in scenario.halls])
    facility = (columns or {}).get("facility") or _facility_columns(scenario)
    for spec in FACILITY_POINTS:
        if spec.column in facility and spec.owner in m.by_name:
            m.point(spec.owner, spec, "facility")
    for hall in scenario.halls:
        _hall_points(m, hall, scenario, columns)
    return m.g


def _facility_columns(scenario: Scenario) -> set[str]:
    cols = {s.column for s in FACILITY_POINTS if s.group == "base"}
    if scenario.site is not None:
        cols |= {s.column for s in FACILITY_POINTS if s.group == "site"}
    if scenario.faults:
        cols |= {s.column for s in FACILITY_POINTS if s.group == "backup"}
    return cols


def _hall(m: SiteModel, h: HallConfig) -> list[str]:
    """Spaces, IT and cooling of one hall; returns the names of its racks (for the PDUs)."""
    m.entity(h.name, REC.DataServerRoom, part_of="site")
    kind = h.cooling.type
    plant = _plant(m, h)
    per_node = h.node.gpus_per_node
    racks = []
    for r in range(h.rows):
        row = f"{h.name}/row-{r + 1}"
        m.entity(row, AIDC.Rack_Row, part_of=h.name)
        if kind == "liquid":
            m.entity(f"{h.name}/cdu-{r + 1}", AIDC.CDU, located=h.name)
            m.entity(f"{h.name}/cdu-{r + 1}/pump", BRICK.Water_Pump, part_of=f"{h.name}/cdu-{r + 1}")
            m.feeds(plant, f"{h.name}/cdu-{r + 1}/pump")
            m.feeds(f"{h.name}/cdu-{r + 1}/pump", f"{h.name}/cdu-{r + 1}")
            m.includes(f"{h.name}/facility-water-loop", f"{h.name}/cdu-{r + 1}")
        for k in range(h.racks_per_row):
            rack = f"{h.name}/rack-{r * h.racks_per_row + k + 1}"
            m.entity(rack, BRICK.ICT_Rack, located=row)
            racks.append(rack)
            if kind == "immersion":
                m.entity(f"{rack}/tank", AIDC.Immersion_Tank, part_of=rack)
                m.feeds(plant, f"{rack}/tank")
            for n in range(h.nodes_per_rack):
                node_index = (r * h.racks_per_row + k) * h.nodes_per_rack + n
                _node(m, h, rack, node_index, per_node)
    return racks


def _node(m: SiteModel, h: HallConfig, rack: str, index: int, per_node: int) -> None:
    node = f"{h.name}/node-{index + 1}"
    m.entity(node, BRICK.Server, part_of=rack)
    domain = m.entity(f"{node}/nvlink", AIDC.NVLink_Domain)
    row = index // (h.racks_per_row * h.nodes_per_rack) + 1
    rack_index = index // h.nodes_per_rack
    for i in range(per_node):
        gpu_index = index * per_node + i
        gpu = f"{h.name}/gpu-{gpu_index}"
        m.g.add((m.entity(gpu, AIDC.GPU, part_of=node), BRICK.isPartOf, domain))
        m.g.add((m.by_name[gpu], AIDC.gpuModel, rdflib.Literal(h.gpu)))
        m.g.add((m.by_name[gpu], AIDC.gpuIndex, rdflib.Literal(gpu_index)))
        if h.cooling.type == "liquid":
            # the plate is part of the GPU: Brick lets HVAC equipment feed HVAC equipment and spaces,
            # not ICT hardware, so the heat path to the die is 223P's connection only
            plate = m.entity(f"{gpu}/cold-plate", AIDC.Cold_Plate, part_of=gpu)
            m.feeds(f"{h.name}/cdu-{row}", f"{gpu}/cold-plate")
            m.g.add((plate, S223.connectedTo, m.by_name[gpu]))
        elif h.cooling.type == "immersion":
            m.g.add((m.by_name[f"{h.name}/rack-{rack_index + 1}/tank"], S223.connectedTo, m.by_name[gpu]))


def _plant(m: SiteModel, h: HallConfig) -> str:
    """The hall's cooling plant; returns what feeds its rows: the facility-water pump (liquid,
    immersion) or the CRAHs (air)."""
    c, name = h.cooling, h.name
    rejection = BRICK.Cooling_Tower if c.heat_rejection.type == "cooling_tower" else BRICK.Dry_Cooler
    m.entity(f"{name}/heat-rejection", rejection, located="site")
    for u in range(c.chiller_units):
        m.entity(f"{name}/chiller-{u + 1}", BRICK.Chiller, located="site")
        m.feeds(f"{name}/heat-rejection", f"{name}/chiller-{u + 1}")
    loop_cls = BRICK.Chilled_Water_Loop if c.type == "air" else BRICK.Water_Loop
    loop = f"{name}/{'chw' if c.type == 'air' else 'facility-water'}-loop"
    pump = f"{loop}/pump"
    m.entity(loop, loop_cls)
    m.entity(pump, BRICK.Chilled_Water_Pump if c.type == "air" else BRICK.Water_Pump, located="site")
    m.includes(loop, pump)
    for u in range(c.chiller_units):
        m.feeds(f"{name}/chiller-{u + 1}", pump)
        m.includes(loop, f"{name}/chiller-{u + 1}")
    if c.type == "air":
        m.entity(f"{name}/crah", BRICK.CRAH, located=name)
        m.feeds(pump, f"{name}/crah")
        m.includes(loop, f"{name}/crah")
        m.feeds(f"{name}/crah", name)
        return f"{name}/crah"
    return pump


def _power_chain(m: SiteModel, scenario: Scenario, racks: list[list[str]]) -> None:  # racks per hall
    """Meter → transformer → switchgear → UPS (one per path) → a PDU per hall and path → racks."""
    pc = scenario.power_chain
    m.entity("transformer", BRICK.Transformer, located="site")
    m.entity("switchgear", BRICK.Switchgear, located="site")
    m.feeds("meter", "transformer")
    m.feeds("transformer", "switchgear")
    if pc.generator:
        m.entity("generator", AIDC.Generator, located="site")
        m.feeds("generator", "switchgear")
    site = scenario.site
    if site is not None and site.pv is not None:  # points on the inverter: collections have none
        m.entity("pv", BRICK.PV_Array)
        m.entity("pv/panels", BRICK.PV_Panel, located="site")
        m.entity("pv/inverter", BRICK.Photovoltaic_Inverter, located="site")
        m.includes("pv", "pv/panels")
        m.feeds("pv/panels", "pv/inverter")
        m.feeds("pv/inverter", "meter")
    if site is not None and site.battery is not None:
        m.entity("battery", BRICK.Battery_Energy_Storage_System)
        m.entity("battery/cells", BRICK.Battery, located="site")
        m.includes("battery", "battery/cells")
        m.feeds("battery/cells", "meter")
    paths = ["a", "b"] if pc.redundancy == "2N" else ["a"]
    for p in paths:
        m.entity(f"ups-{p}", AIDC.UPS, located="site")
        m.feeds("switchgear", f"ups-{p}")
        for hall, hall_racks in zip(scenario.halls, racks, strict=True):
            pdu = f"{hall.name}/pdu-{p}"
            m.entity(pdu, AIDC.PDU, located=hall.name)
            m.feeds(f"ups-{p}", pdu)
            for rack in hall_racks:
                m.feeds(pdu, rack)


def _hall_points(
    m: SiteModel, h: HallConfig, scenario: Scenario, columns: dict[str, list[str]] | None
) -> None:
    halls = set((columns or {}).get("halls") or [s.column for s in HALL_POINTS])
    liquid = h.cooling.type != "air"
    owners = {
        "hall": h.name,
        "supply": f"{h.name}/crah" if not liquid else f"{h.name}/facility-water-loop/pump",
    }
    for spec in HALL_POINTS:
        wrong_kind = spec.column == ("supply_air_c" if liquid else "liquid_supply_c")
        if spec.column in halls and not wrong_kind:
            m.point(owners.get(spec.owner, h.name), spec, "halls", hall=h.name)
    per_gpu = "gpus" in columns if columns is not None else scenario.telemetry.per_gpu
    for i in range(h.gpu_count):
        for spec in GPU_POINTS:
            m.point(f"{h.name}/gpu-{i}", spec._replace(stored=per_gpu), "gpus", hall=h.name, gpu=i)


def load_qudt_subset(g: rdflib.Graph) -> rdflib.Graph:
    """``g`` with the QUDT units and quantity kinds aidc uses (``data/qudt_subset.ttl``)."""
    g.parse(
        data=resources.files("aidc.ontology").joinpath("data/qudt_subset.ttl").read_text("utf-8"),
        format="turtle",
    )
    return g
