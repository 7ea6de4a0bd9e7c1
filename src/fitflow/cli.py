"""The ``fitflow`` command line.

``fitflow plugins``          list every discovered plugin with its settings
``fitflow check NAME``       run the conformance checks on one plugin
``fitflow report DIR``       re-render DIR/report.html from its artefacts
"""

import argparse
import sys

from .errors import FitflowError
from .registry import methods, problems

__all__ = ["main"]


def _format_setting(name, spec):
    text = f"{name}: {spec.type_name} = {spec.default!r}"
    if spec.choices:
        text += f" (one of {', '.join(map(str, spec.choices))})"
    return text + (f"  -- {spec.doc}" if spec.doc else "")


def list_plugins(out=sys.stdout):
    """Print every plugin of both groups; return the number that failed to load."""
    failures = 0
    for registry in (problems(), methods()):
        classes, errors = registry.load_all()
        for name in registry.names():
            dist = registry.distribution(name)
            if name in errors:
                failures += 1
                out.write(f"{registry.group}  {name}  [{dist}]  FAILED TO LOAD: {errors[name]}\n\n")
                continue
            cls = classes[name]
            out.write(f"{registry.group}  {name} {cls.version}  [{dist}]\n")
            out.write(f"    {cls.description}\n")
            out.write(f"    capabilities: {', '.join(sorted(cls.capabilities))}\n")
            hints = cls.resource_hints()
            out.write(
                f"    resources: threads={hints['threads']} mem_mb={hints['mem_mb']} runtime={hints['runtime']} min\n"
            )
            if cls.settings:
                out.write("    settings:\n")
                for key, spec in cls.settings.items():
                    out.write(f"      {_format_setting(key, spec)}\n")
            out.write("\n")
    return failures


def check_plugin(name, out=sys.stdout):
    """Run the conformance checks on the plugin ``name``; return the number failed."""
    from .testing import plugin_checks

    registry = problems() if name in problems().names() else methods()
    cls = registry.get(name)
    failed = 0
    for check in plugin_checks(cls):
        try:
            check()
            out.write(f"PASS {check.__name__}\n")
        except AssertionError as exc:
            failed += 1
            out.write(f"FAIL {check.__name__}: {exc}\n")
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fitflow", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("plugins", help="list every discovered problem and method plugin")
    check = commands.add_parser("check", help="run the conformance checks on a plugin")
    check.add_argument("name")
    report = commands.add_parser("report", help="render RESULTS_DIR/report.html from its artefacts")
    report.add_argument("results_dir")
    args = parser.parse_args(argv)
    try:
        if args.command == "plugins":
            return 1 if list_plugins() else 0
        if args.command == "check":
            return 1 if check_plugin(args.name) else 0
        if args.command == "report":
            from .report import write_report

            write_report(args.results_dir)
            print(f"{args.results_dir}/report.html")
            return 0
    except FitflowError as exc:
        print(f"fitflow: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
