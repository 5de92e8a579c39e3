"""Write ``qudt_subset.ttl``: the QUDT units aidc's points carry and their quantity kinds, from a
checkout of https://github.com/qudt/qudt-public-repo (CC BY 4.0, attribution to QUDT.org).

Run by hand when the unit list or brickschema changes (not at run time, not in tests)::

    python src/aidc/ontology/data/make_qudt_subset.py QUDT_CHECKOUT [COMMIT]

Only what a reader or a SHACL check needs is kept: each unit's types, English label, symbol,
conversion to SI, UCUM code and quantity kinds; the type and English label of those quantity kinds
and of every one Brick 1.5 names (Brick's own shapes require them to be ``qudt:QuantityKind``s,
which is why Brick does not validate without QUDT: py-brickschema issue #106).
"""

from __future__ import annotations

import sys
from pathlib import Path

import brickschema
import rdflib
from rdflib.namespace import RDF, RDFS

from aidc.ontology.units import QUDT_UNITS

QUDT = rdflib.Namespace("http://qudt.org/schema/qudt/")
UNIT = rdflib.Namespace("http://qudt.org/vocab/unit/")
KIND_OF = {QUDT.hasQuantityKind, QUDT.unitForQuantityKind}
KEEP_UNIT = {
    RDF.type,
    RDFS.label,
    QUDT.symbol,
    QUDT.conversionMultiplier,
    QUDT.conversionOffset,
    QUDT.ucumCode,
}
KEEP_UNIT |= KIND_OF
KEEP_KIND = {RDF.type, RDFS.label}


def _english(o: rdflib.term.Node) -> bool:
    return not isinstance(o, rdflib.Literal) or o.language in (None, "en")


def main(checkout: Path, commit: str) -> None:
    rdf = checkout / "src" / "main" / "rdf" / "vocab"
    units = rdflib.Graph().parse(rdf / "unit" / "VOCAB_QUDT-UNITS-ALL.ttl")
    kinds = rdflib.Graph().parse(rdf / "quantitykinds" / "VOCAB_QUDT-QUANTITY-KINDS-ALL.ttl")
    out = rdflib.Graph()
    out.bind("qudt", QUDT)
    out.bind("unit", UNIT)
    out.bind("quantitykind", "http://qudt.org/vocab/quantitykind/")
    wanted_kinds = set()
    for name in sorted(set(QUDT_UNITS.values())):
        u = UNIT[name]
        if (u, RDF.type, None) not in units:
            raise SystemExit(f"unit:{name} is not in {checkout}")
        for p, o in units.predicate_objects(u):
            if p in KEEP_UNIT and _english(o):
                out.add((u, p, o))
                if p in KIND_OF:
                    wanted_kinds.add(o)
    brick = rdflib.Graph().parse(Path(brickschema.__file__).parent / "ontologies" / "1.5" / "Brick.ttl")
    kind_ns = "http://qudt.org/vocab/quantitykind/"
    wanted_kinds |= {
        o for o in brick.objects() if isinstance(o, rdflib.URIRef) and str(o).startswith(kind_ns)
    }
    for k in wanted_kinds:
        for p, o in kinds.predicate_objects(k):
            if p in KEEP_KIND and _english(o):
                out.add((k, p, o))
    header = (
        f"# QUDT units and quantity kinds used by aidc's points: a subset of qudt-public-repo {commit}\n"
        "# (https://github.com/qudt/qudt-public-repo), CC BY 4.0, attribution to QUDT.org.\n"
        "# Made by make_qudt_subset.py; do not edit by hand.\n"
    )
    target = Path(__file__).with_name("qudt_subset.ttl")
    target.write_text(header + out.serialize(format="turtle"), encoding="utf-8")
    print(f"{len(out)} triples, {len(QUDT_UNITS)} units, {len(wanted_kinds)} quantity kinds → {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "(unknown commit)")
