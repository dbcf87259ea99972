"""A plan saved to a file, then applied exactly as saved (Terraform's `plan -out` / `apply PLANFILE`).

    plan = migrate(source, target)                                      # a dry run
    save_plan(plan, "plan.json", source="staff.csv", target="moco")     # the systems by name, never settings
    saved = load_plan("plan.json")
    report = saved.apply(target)        # the same creates, the same field changes; or PlanDrift

What the file holds: which systems it is for (their names in staffbridge.toml, or file paths, and
their adapters), the match keys, the journal and mapping paths, and every step: the person as the
target will get them (creates, updates), each field change before and after, each reason, note and
conflict candidate. No setting of either system is written, so no credential can be in it; the
people's own values are, as in any report.

What it promises: `apply` reads the target again and writes only when every record the plan touches
is as the plan saw it. For an update or a delete that is the record's fields the plan looked at
(kept as short hashes in `seen`, so drift is named field by field without copying values); for a
create, that no target record matches the person yet. Anything else is *drift*: listed, and nothing
is written (`PlanDrift`) until the migration is planned again. The source is not read again: the
plan holds everything the writes need. Steps the plan's journal records as written (a resumed apply)
are not checked again, and not written twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.jobs.migration.apply import Applier
from staffbridge.jobs.migration.deletes import check_delete_limit, delete_limit
from staffbridge.jobs.migration.plan import Plan
from staffbridge.jobs.migration.report import Report
from staffbridge.jobs.migration.run import with_mapping
from staffbridge.jobs.migration.steps import Step
from staffbridge.jobs.migration.translate import Change, Translator
from staffbridge.jobs.progress import Progress, guarded
from staffbridge.jobs.sync.matching import Matcher, describe_key, parse_keys
from staffbridge.jobs.sync.read import read_everyone
from staffbridge.model.compare import is_empty, normalise
from staffbridge.model.errors import ConfigError, StaffbridgeError
from staffbridge.model.output import write_text
from staffbridge.model.person import CANONICAL_FIELDS, Person
from staffbridge.model.render import json_text
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.journal import Journal

__all__ = ["FORMAT", "Drift", "PlanDrift", "SavedPlan", "SystemRef", "load_plan", "save_plan"]

FORMAT = "staffbridge-plan"
VERSION = 1
WRITES = ("create", "update", "delete")
WHO = ("id", "system", "first_name", "middle_name", "last_name", "email")  # enough to name a person


@dataclass(frozen=True)
class SystemRef:
    """A system as the command line names it: a name in staffbridge.toml, or a file path; and its adapter."""

    name: str
    adapter: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "adapter": self.adapter}


@dataclass(frozen=True)
class Drift:
    """A record the plan touches that is no longer as the plan saw it."""

    label: str
    action: str
    what: str  # what changed, in words

    def __str__(self) -> str:
        return f"{self.action} {self.label}: {self.what}"


class PlanDrift(StaffbridgeError):
    """The target changed since the plan was made: nothing was written. Plan again."""

    def __init__(self, path: str, drift: list[Drift]) -> None:
        self.drift = drift
        shown = "; ".join(str(d) for d in drift[:5]) + (f"; and {len(drift) - 5} more" if len(drift) > 5 else "")
        super().__init__(
            f"{path}: {len(drift)} record(s) changed in the target since the plan was made, so nothing "
            f"was written ({shown}); plan again"
        )


# ------------------------------------------------------------------ saving


def save_plan(
    plan: Plan,
    path: str | Path,
    *,
    source: SystemRef | str,
    target: SystemRef | str,
    match: Iterable[str] | None = None,
    journal: str | Path | None = None,
    mapping: str | Path | None = None,
    command: Iterable[str] | None = None,
) -> None:
    """Writes `plan` to `path` (JSON, atomically). `source` and `target` name the systems as the
    command line does; `journal` and `mapping` are paths an apply uses again (relative paths are
    kept relative to the current directory, made absolute here); `command` is the command line that
    made the plan, shown when it has to be made again."""
    if plan.report is not None:
        raise StaffbridgeError("this plan has been applied already; save a plan before applying it")
    if mapping is not None and not isinstance(mapping, (str, Path)):
        raise ConfigError("a saved plan can only name a mapping file, not a mapping given as data", setting="mapping")
    comparable = plan.translator.comparable if plan.translator is not None else ()
    data = {
        "format": FORMAT,
        "version": VERSION,
        "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "source": _system(source, plan.source),
        "target": _system(target, plan.target),
        "pair": plan.pair,
        "command": list(command) if command is not None else None,
        "match": list(match) if match is not None else [describe_key(k) for k in plan.keys],
        "journal": _absolute(journal),
        "mapping": _absolute(mapping),
        "welcome_email": plan.welcome_email,
        # the delete brake as it stood when the plan was made: `apply` refuses a plan over it
        "max_delete": delete_limit(plan.max_delete, plan.target_count),
        "summary": plan.summary(),
        "read_error": plan.read_error,
        "notes": plan.notes,
        "not_carried": plan.not_carried,
        "steps": [_step_data(step, comparable) for step in plan.steps()],
    }
    write_text(json_text(data), path)


def _system(given: SystemRef | str, adapter: Adapter) -> dict[str, str]:
    ref = given if isinstance(given, SystemRef) else SystemRef(given, adapter.name)
    return ref.to_dict()


def _absolute(path: str | Path | None) -> str | None:
    return os.path.abspath(path) if path is not None and str(path) != ":memory:" else None


def _step_data(step: Step, comparable: Iterable[str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": step.action,
        "key": step.key,
        "source": _who(step.source),
        "target": _who(step.target),
        "reason": step.reason,
        "notes": list(step.notes),
        "digest": step.digest,
        "wanted": _values(step.wanted) if step.wanted is not None else None,
        "changes": [c.to_dict() for c in step.changes],
        "candidates": [_who(c) for c in step.candidates],
    }
    if step.action in ("update", "delete") and step.target is not None:
        looked_at = list(comparable) if step.action == "update" else list(CANONICAL_FIELDS)
        data["seen"] = seen_fields(step.target, looked_at, [c.field for c in step.changes])
    return data


def _values(person: Person) -> dict[str, Any]:
    """The person's canonical values that say something (the rest read back as empty)."""
    return {name: value for name, value in person.to_dict().items() if not is_empty(value)}


def _who(person: Person | None) -> dict[str, Any] | None:
    return None if person is None else {name: getattr(person, name) for name in WHO if getattr(person, name)}


def seen_fields(record: Person, fields: Iterable[str], changed: Iterable[str] = ()) -> dict[str, str]:
    """field -> a short hash of the record's value, for the fields a step depends on: every field it
    changes (empty or not) and every other field that holds a value."""
    changed = set(changed)
    return {
        name: fingerprint(name, getattr(record, name))
        for name in dict.fromkeys([*changed, *fields])
        if name in changed or not is_empty(getattr(record, name))
    }


def fingerprint(name: str, value: Any) -> str:
    """A short hash of a value's comparable form: values that differ only in form hash the same."""
    text = normalise(name, value) or ""
    return hashlib.sha256(f"{name}\0{text}".encode()).hexdigest()[:16]


# ------------------------------------------------------------------ loading and applying


def load_plan(path: str | Path) -> SavedPlan:
    """The plan saved at `path`; ConfigError when it is missing or not a staffbridge plan."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file", setting="plan") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not a readable plan file ({type(exc).__name__})", setting="plan") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a staffbridge plan (made by `staffbridge migrate ... --plan FILE`)")
    if data.get("version") != VERSION:
        raise ConfigError(f"{path}: plan format version {data.get('version')!r}; this staffbridge reads {VERSION}")
    return SavedPlan(str(path), data)


@dataclass
class SavedPlan:
    """A plan read back from its file: the same steps, ready to check against the target and apply."""

    path: str
    data: dict[str, Any]
    _steps: list[Step] = field(default_factory=list, repr=False)
    _seen: dict[int, dict[str, str]] = field(default_factory=dict, repr=False)  # id(step) -> its "seen"

    def __post_init__(self) -> None:
        try:
            for item in self.data.get("steps", []):
                step = _step(item)
                self._steps.append(step)
                self._seen[id(step)] = {str(k): str(v) for k, v in (item.get("seen") or {}).items()}
        except (StaffbridgeError, KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{self.path}: a step of the plan cannot be read ({exc})", setting="plan") from None

    @property
    def source(self) -> SystemRef:
        return SystemRef(**self.data["source"])

    @property
    def target(self) -> SystemRef:
        return SystemRef(**self.data["target"])

    @property
    def pair(self) -> str:
        return str(self.data["pair"])

    @property
    def notes(self) -> list[str]:
        return list(self.data.get("notes") or [])

    @property
    def read_error(self) -> str | None:
        return self.data.get("read_error")

    @property
    def made_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.data["made_at"])

    @property
    def command(self) -> list[str] | None:
        return self.data.get("command")

    @property
    def journal_path(self) -> str | None:
        return self.data.get("journal")

    @property
    def mapping_path(self) -> str | None:
        return self.data.get("mapping")

    def summary(self) -> dict[str, Any]:
        return dict(self.data["summary"])

    def steps(self) -> list[Step]:
        return list(self._steps)

    def drift(self, target: Adapter, journal: Journal | None = None, progress: Progress | None = None) -> list[Drift]:
        """What changed in `target` since the plan, for every record the plan would write (one listing
        of the target, plus a full read of a record the listing shows less of than the plan saw)."""
        self._check_target(target)
        written = journal.written() if journal is not None else {}
        pending = [s for s in self._steps if s.action in WRITES and not _started(s, written, journal, self.made_at)]
        if not pending:
            return []
        listing = read_everyone(target, "checking target", guarded(progress))
        if listing.error is not None:
            raise listing.error
        by_id = {p.id: p for p in listing.people if p.id is not None}
        matcher: Matcher[Person] = Matcher(parse_keys(self.data["match"])).extend(listing.people)
        found: list[Drift] = []
        for step in pending:
            what = self._changed(step, target, by_id, matcher)
            if what:
                found.append(Drift(step.label, step.action, what))
        return found

    def apply(
        self,
        target: Adapter,
        *,
        journal: Journal | str | Path | None = None,
        workers: int = 4,
        progress: Progress | None = None,
    ) -> Report:
        """Checks for drift (PlanDrift, nothing written), then writes exactly the plan's steps into
        `target`, journalled in `journal` (default: the journal the plan was made with)."""
        target = with_mapping(target, self.mapping_path)
        spec = journal if journal is not None else self.journal_path
        book = spec if isinstance(spec, Journal) else Journal(spec or ":memory:", pair=self.pair)
        try:
            deletes = sum(1 for step in self._steps if step.action == "delete")
            check_delete_limit(deletes, self.data.get("max_delete", delete_limit(None, 0)), target.name)
            drift = self.drift(target, book, progress)
            if drift:
                raise PlanDrift(self.path, drift)
            written = book.written()
            for step in self._steps:  # a resumed apply: what the last one finished is not written again
                if step.action in WRITES and _finished(step, written, book, self.made_at):
                    step.action, step.reason = "unchanged", "written by an earlier apply of this plan"
            applier = Applier(
                target,
                book,
                translator=Translator(target),
                keys=parse_keys(self.data["match"]),
                workers=workers,
                progress=guarded(progress),
                welcome_email=self.data.get("welcome_email"),
            )
            return applier.run(self.steps(), notes=self.notes, read_error=self.read_error, pair=self.pair)
        finally:
            if book is not spec:
                book.close()

    # ------------------------------------------------------------------ checking one step
    def _check_target(self, target: Adapter) -> None:
        if target.name != self.target.adapter:
            raise ConfigError(
                f"{self.path}: the plan is for {self.target.name} ({self.target.adapter}), "
                f"not a {target.name} system; plan again for this target"
            )

    def _changed(self, step: Step, target: Adapter, by_id: Mapping[str, Person], matcher: Matcher[Person]) -> str:
        """Why `step` no longer holds, in words; "" when the target is as the plan saw it."""
        if step.action == "create":
            assert step.wanted is not None
            match = matcher.match(step.wanted)
            if match.candidates:
                names = ", ".join(c.label for c in match.candidates[:3])
                return f"the target now has a record that may be this person ({names})"
            return ""
        record = by_id.get(step.target_id or "")
        if record is None:
            return f"{target.name} record {step.target_id} is no longer in the target"
        seen = self._seen[id(step)]
        held = [name for name, value in seen.items() if value != fingerprint(name, None)]
        if any(is_empty(getattr(record, name)) for name in held):
            # the listing shows less than the plan saw (WhosOff lists no phones): read it in full
            try:
                record = target.get(record.id or "")
            except StaffbridgeError as exc:
                return f"could not read {target.name} record {record.id} again ({type(exc).__name__})"
        differ = [name for name, value in seen.items() if fingerprint(name, getattr(record, name)) != value]
        return f"changed since the plan: {', '.join(differ)}" if differ else ""


def _started(
    step: Step, written: Mapping[str, tuple[str, str | None]], journal: Journal | None, since: dt.datetime
) -> bool:
    """Whether an earlier apply of this plan wrote this step, or started to (the applier looks such a
    record up before writing again): its target record is expected to differ from the plan's view."""
    if journal is None or step.key is None:
        return False
    entry = journal.get(step.key)
    return (entry is not None and entry.in_flight) or _finished(step, written, journal, since)


def _finished(step: Step, written: Mapping[str, tuple[str, str | None]], journal: Journal, since: dt.datetime) -> bool:
    """Whether the journal records this step as written, exactly as planned, after the plan was made
    (a write of an earlier migration is what the plan saw, not a part of it done already)."""
    entry = journal.get(step.key) if step.key is not None else None
    if entry is None or dt.datetime.fromisoformat(entry.changed_at) < since:
        return False
    if step.action == "delete":
        return entry.state == "deleted"
    return entry.key in written and written[entry.key][1] == step.digest


# ------------------------------------------------------------------ steps from the file


def _step(item: Mapping[str, Any]) -> Step:
    wanted = Person.from_dict(item["wanted"]) if item.get("wanted") else None
    return Step(
        item["action"],
        source=_person(item.get("source")),
        target=_person(item.get("target")),
        wanted=wanted,
        changes=[_change(c) for c in item.get("changes") or []],
        reason=item.get("reason"),
        candidates=[p for p in (_person(c) for c in item.get("candidates") or []) if p is not None],
        notes=list(item.get("notes") or []),
        key=item.get("key"),
        digest=item.get("digest"),
    )


def _person(who: Mapping[str, Any] | None) -> Person | None:
    return None if who is None else Person(**{k: v for k, v in who.items() if k in WHO})


def _change(item: Mapping[str, Any]) -> Change:
    """A change with typed values: the `after` the update sends is the value the plan computed."""
    name = item["field"]
    return Change(name, _typed(name, item.get("before")), _typed(name, item.get("after")))


def _typed(name: str, value: Any) -> Any:
    if value is None:
        return None
    return getattr(Person.from_dict({name: value}), name)
