"""Ask/tell for physical experiments: a measurement log and ``fitflow suggest``.

A campaign file (YAML) names the parameters, the direction and the log::

    parameters: {energy: [0.5, 4.0], focus: [-1, 2], shots: {bounds: [1, 8], type: int}}
    direction: maximise          # or minimise (default)
    log: shots.csv               # relative to this file
    seed: 3
    noise_sd: null               # known noise of one measurement; null: learned
    method: bayesopt             # any optimiser plugin with suggest()
    settings: {}                 # its settings
    constraints: {spread: "<= 0.05"}           # limits on other measured columns (optional)
    objectives: {charge: maximise, spread: minimise}   # several objectives, in place of value

The log is a CSV with one column per parameter, ``value`` and optionally
``error`` (a measurement's standard error), and one per constrained quantity; with
several objectives, one per objective in place of ``value`` (a row is pending while
they are all empty). A new log also has ``suggested``, the time (UTC) each row was
proposed. Other columns (a date, a comment) are kept and ignored.

What a row's ``value`` says:

* empty: *pending*, proposed and not yet measured (listed, with its row and time, on every call);
* ``failed``: measured, and it gave no number (the optimiser learns to avoid such settings);
* ``lost``: the shot never happened (the laser misfired): left out, neither measured nor pending.

A repeated setting is a row of its own: repeats are the best evidence of the shot-to-shot
noise, and the output reports the noise they show. A shot measured outside the bounds (the
machine overshot) is kept, with a warning; suggestions stay inside the bounds.

``fitflow suggest CAMPAIGN --n 4`` fits the surrogate to the measured rows,
treats pending rows as points already being measured, appends ``n`` new
pending rows (atomically) and prints them. Without ``--n``, a log with pending
rows is left as it is and its pending rows are listed: asking again before measuring
does not pile up shots. The same log and seed give the same suggestions. The bounds and direction are recorded beside the log
(``<log>.fitflow.json``) when it is started; changing them afterwards is an
error, never a silent refit of a different problem.

Two ``suggest`` calls at once take turns: each holds an advisory lock
(``.<log>.lock`` beside it) from reading the log to replacing it, so the second
sees the first one's pending rows. A log that changed or vanished while a call
ran, a read-only log and a log that is not UTF-8 are refused with the file
named, and nothing is written. The log's permissions are kept.
"""

import contextlib
import csv
import io
import json
import math
import os
from pathlib import Path
import stat
import time

import numpy as np
import yaml

from ..core.artefacts import write_bytes
from ..core.errors import ConfigError, DataError
from ..inputs.constraints import parse_constraints
from ..inputs.goals import parse_goals
from ..inputs.objective import Observation
from ..inputs.space import SearchSpace
from ..inputs.tables import cell_number
from .campaign import History, in_callers_sign, round_rng
from .progress import assess

__all__ = ["Campaign", "read_campaign", "read_log", "repeat_noise", "suggest", "RESERVED_COLUMNS"]

#: The keys of a campaign file, with what each means (the docs' reference is generated from it).
CAMPAIGN_KEYS = {
    "parameters": "required: `{name: [lower, upper]}`, or `{name: {bounds: [lower, upper], type: int}}`, "
    "`scale: log`, or `{name: {choices: [a, b]}}`, as for the `objective` problem",
    "direction": "`minimise` (default) or `maximise` the measured `value`",
    "log": "required: the measurement log, a CSV path relative to the campaign file",
    "seed": "whole number ≥ 0 (default 0): the same log and seed give the same suggestions",
    "noise_sd": "the known standard deviation of one measurement; `null` (default): learned",
    "method": "the optimiser plugin that suggests (default `bayesopt`; any with `suggest`)",
    "settings": "the optimiser's settings (see the plugin settings reference)",
    "n_initial": "shorthand for `settings: {n_initial: ...}`: the size of the initial design",
    "constraints": "limits on other measured columns, `{column: '<= 0.05'}`: each a column of the log",
    "objectives": "several objectives in place of `value`, `{column: minimise or maximise}`: each a column of the log",
}
SIGNIFICANT_DIGITS = 6  # of suggested parameter values: what a lab can dial, read back exactly
LOCK_WAIT_S = 120.0  # how long a suggest call waits for another one holding the log


class Campaign:
    """A parsed campaign file."""

    def __init__(self, path, space, sign, log, seed, noise_sd, method, settings, constraints=(), goals=()):
        self.path, self.space, self.sign, self.log = path, space, sign, log
        self.seed, self.noise_sd, self.method, self.settings = seed, noise_sd, method, settings
        self.constraints, self.goals = tuple(constraints), tuple(goals)

    @property
    def measured_columns(self):
        """The columns a measured row fills: ``value`` or each objective, then each constrained quantity."""
        first = [g.name for g in self.goals] or ["value"]
        return first + [c.name for c in self.constraints if c.name not in first]

    @property
    def state_file(self):
        return self.log.with_name(self.log.name + ".fitflow.json")

    def state(self):
        return {"parameters": self.space.to_config(), "direction": "maximise" if self.sign < 0 else "minimise"}


def read_campaign(path):
    """Parse and check a campaign file; errors name the file and the key."""
    path = Path(path)
    source = str(path)
    try:
        spec = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError("campaign file not found", source=source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", source=source) from None
    if not isinstance(spec, dict):
        raise ConfigError("a campaign file is a mapping of keys", source=source, value=spec)
    unknown = sorted(set(spec) - set(CAMPAIGN_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key; allowed: {', '.join(sorted(CAMPAIGN_KEYS))}",
            source=source,
            key=unknown[0],
            value=spec[unknown[0]],
        )
    space = SearchSpace.from_config(spec.get("parameters"), source=source)
    direction = spec.get("direction", "minimise")
    if direction not in ("minimise", "maximise"):
        raise ConfigError("must be minimise or maximise", source=source, key="direction", value=direction)
    log = spec.get("log")
    if not isinstance(log, str) or not log:
        raise ConfigError(
            "name the measurement log (a CSV path, relative to this file)", source=source, key="log", value=log
        )
    seed = spec.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError("must be a whole number >= 0", source=source, key="seed", value=seed)
    noise_sd = spec.get("noise_sd")
    if noise_sd is not None and (
        isinstance(noise_sd, bool)
        or not isinstance(noise_sd, (int, float))
        or not math.isfinite(noise_sd)
        or noise_sd < 0
    ):
        raise ConfigError("must be a number >= 0, or null to learn it", source=source, key="noise_sd", value=noise_sd)
    settings = spec.get("settings") or {}
    if not isinstance(settings, dict):
        raise ConfigError("must be a mapping", source=source, key="settings", value=settings)
    if "n_initial" in spec:
        settings = {**settings, "n_initial": spec["n_initial"]}
    constraints = parse_constraints(spec.get("constraints"), source=source)
    goals = parse_goals(spec.get("objectives"), source=source)
    _check_names(space, constraints, goals, source)
    return Campaign(
        path,
        space,
        -1.0 if direction == "maximise" else 1.0,
        path.parent / log,
        seed,
        None if noise_sd is None else float(noise_sd),
        spec.get("method", "bayesopt"),
        settings,
        constraints,
        goals,
    )


#: Columns of the log that fitflow itself writes or reads: no parameter, objective or constraint may take them.
RESERVED_COLUMNS = ("value", "error", "suggested")


def _check_names(space, constraints, goals, source):
    """Refuse a campaign whose parameters, objectives and constrained columns share a name, or
    take one of :data:`RESERVED_COLUMNS`: each is a column of the log, and two columns of one
    name would corrupt it."""
    for name in space.names:
        if name in RESERVED_COLUMNS:
            raise ConfigError(
                f"a parameter cannot be named {name!r}: the log's {name!r} column is fitflow's "
                f"(reserved: {', '.join(RESERVED_COLUMNS)}); rename it",
                source=source,
                key=f"parameters.{name}",
            )
    for key, names in (("objectives", [g.name for g in goals]), ("constraints", [c.name for c in constraints])):
        for name in names:
            if name in space.names:
                raise ConfigError(
                    f"{name!r} is a parameter: a measured column needs a name of its own",
                    source=source,
                    key=f"{key}.{name}",
                )
            if name in ("error", "suggested") or (key == "objectives" and name == "value"):
                raise ConfigError(
                    f"{name!r} is a column fitflow writes (reserved: {', '.join(RESERVED_COLUMNS)}); rename it",
                    source=source,
                    key=f"{key}.{name}",
                )


def read_log(campaign):
    """``(history, rows)`` from the campaign's log (empty without a file): every row is
    checked, and an error names the file, row and column."""
    space, path = campaign.space, campaign.log
    history = History(space, noise_sd=campaign.noise_sd, constraints=campaign.constraints, goals=campaign.goals)
    if not path.exists():
        return history, 0
    reader = csv.reader(io.StringIO(_log_text(path)))
    header = next(reader, None)
    if header is None:
        return history, 0
    header = [h.strip() for h in header]
    missing = [c for c in (*space.names, *campaign.measured_columns) if c not in header]
    if missing:
        raise DataError(f"the log has no column {missing[0]!r} (its columns: {', '.join(header)})", file=path)
    if len(set(header)) != len(header):
        raise DataError(f"a column name appears twice in the header: {header}", file=path)
    column = {name: header.index(name) for name in header}
    pending, pending_rows, lost, outside = [], [], [], []
    rows = 0
    # Rows are counted as a spreadsheet shows them: the header is row 1.
    for line_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if len(row) != len(header):
            raise DataError(f"{len(row)} fields where the header has {len(header)}", file=path, row=line_number)
        x = np.empty(space.dim)
        for j, name in enumerate(space.names):
            cell = row[column[name]].strip()
            p = space.parameters[j]
            try:
                x[j] = p.coordinate(cell)
            except ValueError as exc:
                reason = str(exc) if p.kind == "choice" else f"{cell!r} is not a number"
                raise DataError(reason, file=path, key=name, row=line_number) from None
            if not math.isfinite(x[j]):
                raise DataError(f"{cell} is not a finite number", file=path, key=name, row=line_number)
            if not p.lower <= x[j] <= p.upper:
                outside.append(f"row {line_number}: {name} = {cell} outside [{p.lower:g}, {p.upper:g}]")
            if p.kind == "int" and x[j] != round(x[j]):
                raise DataError(f"{cell} is not a whole number", file=path, key=name, row=line_number)
        measured = {name: row[column[name]].strip() for name in campaign.measured_columns}
        first = campaign.measured_columns[: max(1, len(campaign.goals))]  # value, or every objective
        if any(measured[name].lower() == "lost" for name in first):
            lost.append(line_number)
            continue
        if all(measured[name] == "" for name in first):
            pending.append(x)
            when = row[column["suggested"]].strip() if "suggested" in column else ""
            others = [name for name in measured if name not in first and measured[name]]
            pending_rows.append((line_number, when, others))
            continue
        if any(cell.lower() == "failed" for cell in measured.values()):
            history.add(x, Observation(math.nan, status="failed", reason=f"marked failed in row {line_number}"))
            continue
        numbers = {name: _measured_number(cell, path, name, line_number) for name, cell in measured.items()}
        if campaign.goals:
            history.add(x, Observation(math.nan, outputs=numbers))
            continue
        number = numbers.pop("value")
        error = math.nan
        if "error" in column and row[column["error"]].strip():
            cell = row[column["error"]].strip()
            try:
                error = cell_number(cell)
            except ValueError:
                raise DataError(f"{cell!r} is not a number", file=path, key="error", row=line_number) from None
            if not (math.isfinite(error) and error >= 0):
                raise DataError(f"{cell} must be a number >= 0", file=path, key="error", row=line_number)
        history.add(x, Observation(campaign.sign * number, error, outputs=numbers))
    history.pending = np.array(pending).reshape(-1, space.dim)
    history.log_notes = _log_notes(history, pending_rows, lost, outside)
    return history, rows


def _log_notes(history, pending_rows, lost, outside):
    """What the log shows that the experimenter should read: the pending rows (with when they
    were suggested, and any that hold a measurement but no value), lost shots, shots outside
    the bounds, and the noise that repeated settings show."""
    notes = []
    if pending_rows:
        shown = ", ".join(f"{line}" + (f" ({when})" if when else "") for line, when, _ in pending_rows[:12])
        more = f" and {len(pending_rows) - 12} more" if len(pending_rows) > 12 else ""
        notes.append(f"pending (suggested, not measured): row{'s' * (len(pending_rows) > 1)} {shown}{more}")
        for line, _, others in pending_rows:
            if others:
                notes.append(
                    f"row {line} has {', '.join(others)} but no value: pending; write the value, 'failed' "
                    "(measured, no number) or 'lost' (the shot never happened)"
                )
    if lost:
        notes.append(f"lost shots, left out: row{'s' * (len(lost) > 1)} {', '.join(map(str, lost))}")
    for said in outside:
        notes.append(f"measured outside the bounds, kept: {said} (suggestions stay inside)")
    noise = repeat_noise(history)
    if noise is not None:
        sd, dof, groups = noise
        notes.append(
            f"repeated settings: {groups} measured more than once; their spread gives a shot-to-shot noise sd of "
            f"{sd:.3g} ({dof} degree{'s' * (dof != 1)} of freedom)"
        )
        stated = history.noise_sd
        if stated is not None and not _noise_agrees(sd, dof, stated):
            notes.append(
                f"the campaign's noise_sd is {stated:g}, but the repeats show {sd:.3g}: set noise_sd to what the "
                "repeats show, or null to learn it (the surrogate trusts the stated noise)"
            )
    return notes


def _noise_agrees(sd, dof, stated):
    """Whether a noise sd ``sd`` estimated with ``dof`` degrees of freedom is consistent with the
    stated one: ``dof s^2 / sigma^2`` inside the chi-square's tails that a fit's goodness of fit
    accepts (:data:`fitflow.core.goodness.ACCEPTED`)."""
    if stated <= 0:
        return sd == 0
    from scipy.stats import chi2

    from ..core.goodness import ACCEPTED

    statistic = dof * sd**2 / stated**2
    return chi2.ppf(ACCEPTED[0], dof) <= statistic <= chi2.ppf(ACCEPTED[1], dof)


def repeat_noise(history):
    """``(sd, degrees of freedom, settings)``: the pooled standard deviation of the values
    measured more than once at the same setting, or None without repeats."""
    by_setting = {}
    for i, x in enumerate(history.x):
        if history.status[i] == "ok" and np.isfinite(history.y[i]):
            by_setting.setdefault(tuple(x), []).append(history.y[i])
    repeated = [np.asarray(values) for values in by_setting.values() if len(values) > 1]
    dof = sum(len(values) - 1 for values in repeated)
    if not dof:
        return None
    squares = sum(float(np.sum((values - values.mean()) ** 2)) for values in repeated)
    return math.sqrt(squares / dof), dof, len(repeated)


def _measured_number(cell, path, name, line_number):
    """A measured cell as a finite number, or a DataError naming the file, column and row."""
    try:
        number = cell_number(cell)
    except ValueError:
        raise DataError(
            f"{cell!r} is not a number (leave the row's measurements empty for a pending point, or write 'failed')",
            file=path,
            key=name,
            row=line_number,
        ) from None
    if not math.isfinite(number):
        raise DataError(
            f"{cell} is not finite (write 'failed' for a measurement that gave no number)",
            file=path,
            key=name,
            row=line_number,
        )
    return number


def _log_text(path):
    """The log's text (UTF-8, a spreadsheet's byte-order mark dropped), or a DataError
    naming the row of the first byte that is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"byte 0x{data[exc.start]:02x} is not UTF-8 text: save the log as UTF-8 (CSV UTF-8 in a spreadsheet)",
            file=path,
            row=row,
        ) from None


def _check_state(campaign):
    """Refuse a log whose campaign's bounds or direction changed since it was started."""
    if not campaign.state_file.exists():
        return
    try:
        recorded = json.loads(campaign.state_file.read_text())
        if not isinstance(recorded, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(
            f"the campaign's record of its bounds and direction is damaged ({exc}); restore it, or delete it "
            "to record the campaign file's current bounds",
            file=campaign.state_file,
        ) from None
    now = campaign.state()
    if recorded.get("direction") != now["direction"]:
        raise ConfigError(
            f"the direction changed from {recorded.get('direction')} to {now['direction']} since the "
            f"log {campaign.log} was started (recorded in {campaign.state_file})",
            source=str(campaign.path),
            key="direction",
        )
    old, new = recorded.get("parameters", {}), now["parameters"]
    for name in sorted(set(old) | set(new)):
        if old.get(name) != new.get(name):
            raise ConfigError(
                f"parameter {name!r} changed from {old.get(name)} to {new.get(name)} since the log {campaign.log} "
                f"was started (recorded in {campaign.state_file}); its measurements belong to the old problem: "
                "start a new log, or restore the bounds",
                source=str(campaign.path),
                key=f"parameters.{name}",
            )


def suggest(campaign_path, n=None, out=None):
    """Append ``n`` suggested points to the campaign's log as pending rows; return them
    (as ``{name: value}`` dicts) and the current recommendation (or ``None``). ``n = 0``
    gives the recommendation alone, and leaves the log as it is; ``n = None`` (the command
    without ``--n``) lists the pending rows where there are some and appends nothing, else
    suggests one point."""
    from ..core.pipeline import make_method
    from .campaign import recommend

    if n is not None and n < 0:
        raise ConfigError("--n must be 0 (the recommendation alone) or more", value=n)
    campaign = read_campaign(campaign_path)
    if n is None:
        _check_state(campaign)
        if len(read_log(campaign)[0].pending):
            return [], _recommendation_only(campaign, out)
        n = 1
    if n == 0:
        return [], _recommendation_only(campaign, out)
    with _locked(campaign.log):
        _check_state(campaign)
        before = _identity(campaign.log)
        history, rows = read_log(campaign)
        settings = {"budget": max(len(history) + len(history.pending) + n, 2), **campaign.settings}
        method = make_method(campaign.method, **settings)
        if not hasattr(method, "suggest"):
            raise ConfigError(f"{method.label()} cannot suggest points", source=str(campaign.path), key="method")
        purposes = method.purposes(history, n) if hasattr(method, "purposes") else None
        points = np.asarray(method.suggest(history, n, round_rng(campaign.seed, rows)), dtype=float).reshape(n, -1)
        text, suggested = _appended(campaign, points)
        if _identity(campaign.log) != before:
            raise DataError(
                "the log changed (or was deleted) while fitflow suggest ran; nothing was written: run it again",
                file=campaign.log,
            )
        try:
            if not campaign.state_file.exists():
                state = json.dumps(campaign.state(), indent=2, sort_keys=True) + "\n"
                write_bytes(campaign.state_file, state.encode())
            write_bytes(campaign.log, text.encode(), mode=None if before is None else before[-1])
        except OSError as exc:
            raise DataError(f"cannot write the log: {exc.strerror}", file=campaign.log) from None
    best = recommend(method, history) if history.ok.any() else None
    if out is not None:
        _print_suggestions(out, campaign, history, suggested, best, purposes)
    return suggested, best


def _recommendation_only(campaign, out):
    """The current recommendation from the measured rows (``None`` before any), printed;
    the log is read, never written."""
    from ..core.pipeline import make_method
    from .campaign import recommend

    _check_state(campaign)
    history, _ = read_log(campaign)
    best = None
    if history.ok.any():
        method = make_method(campaign.method, **{"budget": max(len(history), 2), **campaign.settings})
        best = recommend(method, history)
    if out is not None:
        _print_suggestions(out, campaign, history, [], best)
    return best


def _appended(campaign, points):
    """``(text, suggested)``: the log's text with a pending row per point (real CSV quoting,
    so an option with a comma survives), and each point as the log now reads back."""
    space = campaign.space
    text = _log_text(campaign.log) if campaign.log.exists() else ""
    if not text.strip():
        error = [] if campaign.goals else ["error"]
        header, text = [*space.names, *campaign.measured_columns, *error, "suggested"], ""
        rows = [header]
    else:
        header = [h.strip() for h in next(csv.reader(io.StringIO(text)))]
        rows = []
        if not text.endswith("\n"):
            text += "\n"
    suggested = []
    now = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    for x in points:
        cells = {p.name: p.text(v, SIGNIFICANT_DIGITS) for v, p in zip(x, space.parameters)}
        cells["suggested"] = now
        # What the log now says, read back: the printed suggestion is the row appended.
        suggested.append({p.name: p.value(p.coordinate(cells[p.name])) for p in space.parameters})
        rows.append([cells.get(column, "") for column in header])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return text + buffer.getvalue(), suggested


def _identity(path):
    """What tells a changed log: ``(inode, size, mtime, mode)``, or None when there is none."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns, stat.S_IMODE(info.st_mode)


@contextlib.contextmanager
def _locked(log):
    """Hold the log's advisory lock (``.<log>.lock``); another holder is waited for up to
    :data:`LOCK_WAIT_S` seconds. A read-only log is refused here, before anything is computed."""
    import fcntl

    info = _identity(log)
    if info is not None and not info[-1] & stat.S_IWUSR:
        raise DataError(
            f"the log is read-only (mode {info[-1]:04o}); fitflow suggest appends rows to it: make it "
            "writable (chmod u+w) or copy it",
            file=log,
        )
    lock = log.with_name(f".{log.name}.lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise DataError(f"cannot create the log's lock file beside it: {exc.strerror}", file=lock) from None
    try:
        wait_s = LOCK_WAIT_S
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DataError(
                        f"another fitflow suggest has held the log for {wait_s:g} s; try again when it is done",
                        file=log,
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def _print_suggestions(out, campaign, history, suggested, best, purposes=None):
    space = campaign.space
    out.write(
        f"{len(history)} measured ({int((~history.ok).sum())} failed), {len(history.pending)} pending "
        f"before this call; {campaign.log}\n"
    )
    for note in getattr(history, "log_notes", ()):
        out.write(f"  {note}\n")
    if campaign.goals:
        _print_front(out, campaign, history)
    if best is not None:
        sd = "" if not math.isfinite(best.sd) else f" ± {best.sd:.3g}"
        out.write(
            f"recommended so far: {space.describe(best.x)}: value {in_callers_sign(campaign.sign, best.mean):.4g}{sd}\n"
        )
    if len(history):
        for sentence in assess(history, best):
            out.write(f"  {sentence}\n")
    if not suggested:
        if best is None and not history.ok.any():
            out.write("no measured row yet: nothing to recommend\n")
        if len(history.pending):
            out.write(
                f"nothing appended: {len(history.pending)} row{'s are' if len(history.pending) > 1 else ' is'} "
                "pending; measure them (or mark a shot that never happened 'lost'), or ask for more with --n\n"
            )
        return
    out.write(f"measure next ({len(suggested)} rows appended, value empty):\n")
    out.write("  " + "  ".join(f"{name:>12}" for name in space.names) + ("  for" if purposes else "") + "\n")
    for i, point in enumerate(suggested):
        why = f"  {purposes[i]}" if purposes else ""
        out.write("  " + "  ".join(f"{_show(point[name]):>12}" for name in space.names) + why + "\n")


def _print_front(out, campaign, history):
    """With several objectives: the measured rows no other beats on every objective."""
    from .pareto import non_dominated

    values = np.where(history.feasible[:, None], history.goal_values(), np.nan)
    front = np.flatnonzero(non_dominated(values)) if len(history) else []
    if not len(front):
        return
    goals = [g.name for g in campaign.goals]
    column = {name: j for j, name in enumerate(history.output_names)}
    out.write(f"Pareto front so far ({len(front)} measured rows no other beats on every objective):\n")
    out.write("  " + "  ".join(f"{name:>12}" for name in (*campaign.space.names, *goals)) + "\n")
    for i in front[np.argsort(values[front, 0], kind="stable")]:
        point = campaign.space.as_dict(history.x[i])
        cells = [_show(point[name]) for name in campaign.space.names]
        cells += [f"{history.outputs[i, column[name]]:g}" for name in goals]
        out.write("  " + "  ".join(f"{cell:>12}" for cell in cells) + "\n")


def _show(value):
    """A suggested value as printed: numbers to 6 significant digits, an option as itself."""
    return str(value) if isinstance(value, (str, bool)) else f"{value:g}"
