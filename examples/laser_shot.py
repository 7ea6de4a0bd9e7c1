#!/usr/bin/env python3
"""A stand-in for one laser-plasma shot: prints the electron-beam charge it gives.

Usage: laser_shot.py --energy E --focus F --density N --seed S [--with-spread | --charge-and-spread]

A toy model, standard library only, so it runs under any Python: the charge
peaks at an energy-dependent focus and density, and every shot scatters by
about 3 % (shot-to-shot noise, drawn from --seed and the parameters). The last
line of standard output is the value fitflow reads. With --with-spread it is a
JSON object of the charge (``value``) and the beam's relative energy spread
(``spread``), which grows with density and energy: what a constrained campaign
limits (config/campaign-constrained.yaml). With --charge-and-spread it is
``{"charge": ..., "spread": ...}``: two objectives to trade against each other
(config/campaign-pareto.yaml).
"""

import argparse
import json
import math
import random
import sys


def charge(energy, focus, density):
    """Mean beam charge (pC): an optimum near focus = 0.35 energy and density = 1.2."""
    best_focus = 0.35 * energy
    return (
        80.0
        * energy
        * math.exp(-(((focus - best_focus) / 0.8) ** 2) - ((density - 1.2) / 0.9) ** 2)
        / (1 + 0.2 * energy**2)
    )


def spread(energy, density):
    """Mean relative energy spread of the beam: higher at high density and energy."""
    return 0.025 * density * (1 + 0.25 * energy)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--energy", type=float, required=True, help="laser energy (J), 0.5 to 4")
    parser.add_argument("--focus", type=float, required=True, help="focus position (mm), -1 to 2")
    parser.add_argument("--density", type=float, required=True, help="plasma density (1e18 cm^-3), 0.2 to 3")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--with-spread", action="store_true", help="print JSON: the charge and the energy spread")
    parser.add_argument("--charge-and-spread", action="store_true", help="print JSON: charge and spread by name")
    args = parser.parse_args(argv)
    if args.energy <= 0 or args.density <= 0:
        print(f"unphysical input: energy {args.energy}, density {args.density}", file=sys.stderr)
        return 2
    shot = random.Random(f"{args.seed}:{args.energy!r}:{args.focus!r}:{args.density!r}")
    mean = charge(args.energy, args.focus, args.density)
    print(f"shot fired: energy {args.energy:.3f} J, focus {args.focus:.3f} mm, density {args.density:.3f}")
    value = mean * (1 + 0.03 * shot.gauss(0.0, 1.0))
    if args.with_spread or args.charge_and_spread:
        measured = spread(args.energy, args.density) * (1 + 0.03 * shot.gauss(0.0, 1.0))
        print(json.dumps({"charge" if args.charge_and_spread else "value": value, "spread": measured}))
    else:
        print(value)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
