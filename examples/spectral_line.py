#!/usr/bin/env python3
"""A stand-in for an expensive simulation with several outputs: an H-alpha line's
width, shift and intensity ratio from the plasma's density, temperature and velocity.

Usage: spectral_line.py --log10-density N --temperature T --velocity V

Prints "width shift ratio" (nm, nm, dimensionless) on its last line, the
convention fitflow reads. Like a real code it sometimes fails: below 6 eV its
(pretend) collisional-radiative solver does not converge and it exits with
status 3. Standard library only, so it runs under any Python.
"""

import argparse
import math
import sys

LAMBDA0, C_KM_S, EV_TO_K = 656.3, 299_792.458, 11_604.5


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log10-density", type=float, required=True, help="electron density, log10 cm^-3")
    parser.add_argument("--temperature", type=float, required=True, help="electron temperature, eV")
    parser.add_argument("--velocity", type=float, required=True, help="flow velocity, km/s")
    args = parser.parse_args(argv)
    if args.temperature < 6.0:
        print(f"solver did not converge at T = {args.temperature:.3f} eV", file=sys.stderr)
        return 3
    density = 10.0 ** (args.log10_density - 17.0)
    stark = 0.04 * density ** (2.0 / 3.0)
    doppler = 7.16e-7 * LAMBDA0 * math.sqrt(args.temperature * EV_TO_K)
    width = 0.5346 * stark + math.sqrt(0.2166 * stark**2 + doppler**2)
    shift = LAMBDA0 * args.velocity / C_KM_S + 0.01 * density**0.8
    ratio = 2.5 * math.exp(-12.0 / args.temperature)
    print("converged; writing outputs")
    print(f"{width!r} {shift!r} {ratio!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
