"""Unify several staff directories into one: who is the same person, which value survives, what disagrees.

    directory = staffbridge.unify([moco, whosoff, fieldservice], match=("email", "employee_number"),
                                  authority="moco", state="unify-state.json")
    for person in directory.matched: print(person.crosswalk, [c.field for c in person.conflicts])
    print(directory.summary())
    scim = directory.to_scim()          # a SCIM 2.0 ListResponse (staffbridge.scim)

- Systems are adapters, in order of precedence (a list: named by `adapter.name`; a dict: by its keys,
  for two accounts of one vendor). The order breaks ties and drives the "first" rule.
- Matching reuses `staffbridge.matching` (the migration's matcher), so both agree on who is the same
  person. Systems are matched in order: each record of the next system either joins the one person it
  matches, or starts a new one. A record whose keys point at several people, or a person that several
  records of one system claim, is *ambiguous*: listed in `directory.ambiguous`, kept as a person of
  its own, never merged by guess.
- Field values merge by survivorship rules (`staffbridge.survivorship`: per field an authoritative
  system, the newest `updated_at`, or the first non-empty value; `rules=` a TOML file or dict,
  `authority=` a system or {field: system}). Different values of one field in different systems are
  the person's `conflicts`; differences of form only (email case, phone spacing, an address as text
  versus in parts) are not.
- Incremental sync (`state=` a state file or a `Store`: `staffbridge.store.cursors`; the reads:
  `staffbridge.jobs.sync.read`). Only adapters that can list by
  `updated_after` (MOCO) are read incrementally; everybody else is read whole. Deletes: a record missing
  from a complete whole read is marked removed; never after a failed or partial read, and an
  `updated_after` read cannot see them: MOCO recommends a DELETE webhook subscription; here a whole
  read with `full=True`, or every `full_every` runs, finds them.
- A system whose read fails does not stop the run: its people are *unknown* (last known data, not
  removed), and the directory is built from everything else. `directory.failed` says why.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from staffbridge.jobs.progress import Progress, guarded
from staffbridge.jobs.sync.matching import Matcher, parse_keys
from staffbridge.jobs.sync.read import DEFAULT_OVERLAP, SystemRead, read_system
from staffbridge.jobs.unification.directory import REMOVED, Ambiguity, Conflict, Directory, UnifiedPerson
from staffbridge.jobs.unification.survivorship import MERGED_FIELDS, Candidate, Rules, load_rules, values_agree
from staffbridge.model.compare import is_empty
from staffbridge.model.errors import ConfigError
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter
from staffbridge.store.base import Store
from staffbridge.store.cursors import SyncState

__all__ = ["Ambiguity", "Conflict", "Directory", "UnifiedPerson", "unify"]

log = logging.getLogger("staffbridge.unify")
DEFAULT_MATCH = ("email", "employee_number")


def unify(
    systems: Sequence[Adapter] | Mapping[str, Adapter],
    match: Any = None,
    authority: str | Mapping[str, str] | None = None,
    rules: str | Path | Mapping[str, Any] | Rules | None = None,
    state: str | Path | Store | SyncState | None = None,
    full: bool = False,
    full_every: int | None = None,
    overlap: dt.timedelta = DEFAULT_OVERLAP,
    progress: Progress | None = None,
    deleted: Mapping[str, Collection[str]] | None = None,
) -> Directory:
    """Reads every system and returns the unified Directory (see the module docstring).

    `match`: ordered match keys (default: the rules' [match], else email, then employee_number).
    `state`: a path or a Store (loaded, and saved after the run) or a SyncState (updated in place, not
    saved).
    `deleted`: per system, record ids the vendor reported deleted since the last run (a DELETE webhook):
    removed on this run even where the read is incremental and cannot see a delete.
    `progress(done, total, label)` is called while reading ("reading moco") and per system done."""
    named = _named(systems)
    loaded_rules = load_rules(rules, authority)
    loaded_rules.check_systems(named)
    keys = parse_keys(match or loaded_rules.match or DEFAULT_MATCH)
    if full_every is not None and (not isinstance(full_every, int) or isinstance(full_every, bool) or full_every < 1):
        raise ConfigError(f"full_every must be a whole number of at least 1, not {full_every!r}", setting="full_every")
    sync = state if isinstance(state, SyncState) else SyncState.load(state)
    for name, adapter in named.items():
        kept = sync.systems.get(name)
        if kept is not None and kept.adapter not in (None, adapter.name):
            raise ConfigError(
                f"state file: {name!r} was a {kept.adapter} system, now it is {adapter.name}; "
                "use another state file for other systems",
                setting="state",
            )
    for adapter in named.values():  # a missing file is no empty directory: nobody is removed by a typo
        adapter.check_source()
    tell = guarded(progress)
    reads: dict[str, SystemRead] = {}
    for done, (name, adapter) in enumerate(named.items()):
        reads[name] = read_system(
            name,
            adapter,
            sync.system(name),
            full=full,
            full_every=full_every,
            overlap=overlap,
            progress=tell,
            deleted=(deleted or {}).get(name, ()),
        )
        tell(done + 1, len(named), "systems read")
    people, ambiguous = Unifier(list(named), keys, loaded_rules, sync.ids).run(reads)
    sync.ids = {
        f"{s}:{i}": p.id for p in people if not p.removed for s, i in p.crosswalk.items() if p.status.get(s) != REMOVED
    }
    if not isinstance(state, SyncState) and state is not None:
        sync.save()
    return Directory(people, list(named), reads, ambiguous, keys, loaded_rules.describe(), state=sync)


def _named(systems: Sequence[Adapter] | Mapping[str, Adapter]) -> dict[str, Adapter]:
    if isinstance(systems, Mapping):
        named = {str(name): adapter for name, adapter in systems.items()}
    else:
        named = {}
        for adapter in systems:
            if adapter.name in named:
                raise ConfigError(
                    f"unify: two systems are called {adapter.name!r}; pass a dict to name them "
                    f"apart, e.g. {{'{adapter.name}-a': ..., '{adapter.name}-b': ...}}",
                    setting="systems",
                )
            named[adapter.name] = adapter
    if not named:
        raise ConfigError("unify: give at least one system", setting="systems")
    for name, adapter in named.items():
        if not isinstance(adapter, Adapter):
            raise ConfigError(
                f"unify: {name!r} is not an adapter (staffbridge.connect(...) makes one)", setting="systems"
            )
    return named


@dataclass(eq=False)
class _Record:
    system: str
    key: str
    person: Person
    status: str


@dataclass(eq=False)
class _Cluster:
    members: dict[str, _Record] = field(default_factory=dict)  # system -> record
    ambiguity: Ambiguity | None = None
    candidates: list[_Cluster] = field(default_factory=list)  # of an ambiguous record


class Unifier:
    """Clusters the records of every system into people, then merges each cluster."""

    def __init__(self, systems: list[str], keys: Any, rules: Rules, known_ids: dict[str, str]) -> None:
        self.systems, self.keys, self.rules, self.known_ids = systems, keys, rules, known_ids
        self.matcher: Matcher[_Cluster] = Matcher(keys)
        self.clusters: list[_Cluster] = []

    def run(self, reads: dict[str, SystemRead]) -> tuple[list[UnifiedPerson], list[Ambiguity]]:
        for system in self.systems:
            read = reads[system]
            self._add_system(system, [_Record(system, k, p, read.status()) for k, p in read.people.items()])
        for system in self.systems:  # removed records join their person afterwards: they never compete
            for key, person in reads[system].removed.items():
                self._attach_removed(_Record(system, key, person, REMOVED))
        ids = self._ids()
        people = [self._merge(cluster, ids[id(cluster)]) for cluster in self.clusters]
        self._managers_by_unified_id(people)
        for cluster, _unified in zip(self.clusters, people, strict=False):
            if cluster.ambiguity is not None:
                cluster.ambiguity.candidates = [ids[id(c)] for c in cluster.candidates]
        return people, [p.ambiguity for p in people if p.ambiguity is not None]

    def _add_system(self, system: str, records: list[_Record]) -> None:
        claims: dict[int, list[_Record]] = {}
        targets: dict[int, _Cluster] = {}
        joined: list[tuple[_Record, _Cluster]] = []
        for record in records:
            found = self.matcher.match(record.person)
            if found.conflict:
                self._ambiguous(record, found.reason or "matches several people", found.candidates)
            elif found.unique:
                cluster = found.candidates[0]
                claims.setdefault(id(cluster), []).append(record)
                targets[id(cluster)] = cluster
            else:
                joined.append((record, self._new(record)))
        for cluster_id, claimants in claims.items():
            cluster = targets[cluster_id]
            if len(claimants) == 1:
                cluster.members[system] = claimants[0]
                joined.append((claimants[0], cluster))
                continue
            ids = ", ".join(f"#{r.key}" for r in claimants)
            for record in claimants:
                self._ambiguous(record, f"{len(claimants)} {system} records ({ids}) match the same person", [cluster])
        for record, cluster in joined:  # indexed only now: records of one system never match each other
            self.matcher.add(record.person, cluster)

    def _new(self, record: _Record) -> _Cluster:
        cluster = _Cluster({record.system: record})
        self.clusters.append(cluster)
        return cluster

    def _ambiguous(self, record: _Record, reason: str, candidates: Iterable[_Cluster]) -> None:
        cluster = self._new(record)
        cluster.candidates = list(candidates)
        cluster.ambiguity = Ambiguity(record.system, record.key, record.person.label, reason)
        log.info("%s#%s is ambiguous: %s", record.system, record.key, reason)

    def _attach_removed(self, record: _Record) -> None:
        found = self.matcher.match(record.person)
        cluster = found.found
        if cluster is not None and record.system not in cluster.members:
            cluster.members[record.system] = record
        else:
            self._new(record)

    def _ids(self) -> dict[int, str]:
        """Unified ids: the one a member had last run (kept stable), else "system:id" of its first member."""
        taken: set[str] = set()
        ids: dict[int, str] = {}
        for cluster in self.clusters:
            refs = [f"{s}:{cluster.members[s].key}" for s in self.systems if s in cluster.members]
            chosen = (
                next((self.known_ids[r] for r in refs if r in self.known_ids and self.known_ids[r] not in taken), None)
                or refs[0]
            )
            base, n = chosen, 1
            while chosen in taken:
                n += 1
                chosen = f"{base}~{n}"
            taken.add(chosen)
            ids[id(cluster)] = chosen
        return ids

    @staticmethod
    def _managers_by_unified_id(people: list[UnifiedPerson]) -> None:
        """A manager id is an id of the system the value came from; in the directory it becomes the
        manager's unified id. A manager no system listed keeps the vendor's id (and a note)."""
        by_record = {(s, key): p.id for p in people for s, key in p.crosswalk.items()}
        for unified in people:
            manager, system = unified.person.manager_id, unified.sources.get("manager_id")
            if not manager or system is None:
                continue
            found = by_record.get((system, str(manager)))
            if found is not None:
                unified.person.manager_id = found
            else:
                unified.person.problems.append(f"manager_id: {system} manager {manager} is not in the directory")

    # ------------------------------------------------------------------ merging
    def _merge(self, cluster: _Cluster, unified_id: str) -> UnifiedPerson:
        ordered = [cluster.members[s] for s in self.systems if s in cluster.members]
        live = [r for r in ordered if r.status != REMOVED] or ordered
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        conflicts: list[Conflict] = []
        for name in MERGED_FIELDS:
            if name == "custom_fields":
                continue
            picked = self._pick(
                name, [Candidate(r.system, getattr(r.person, name), r.person.updated_at) for r in live], conflicts
            )
            if picked is not None:  # lists are copied: the merged person must not share the record's
                values[name], sources[name] = copy.copy(picked.value), picked.system
        custom: dict[str, Any] = {}
        for key in dict.fromkeys(k for r in live for k in (r.person.custom_fields or {})):
            name = f"custom_fields.{key}"
            picked = self._pick(
                name,
                [Candidate(r.system, (r.person.custom_fields or {}).get(key), r.person.updated_at) for r in live],
                conflicts,
            )
            if picked is not None:
                custom[key], sources[name] = picked.value, picked.system
        created = [r.person.created_at for r in live if r.person.created_at]
        updated = [r.person.updated_at for r in live if r.person.updated_at]
        person = Person(
            id=unified_id,
            system="unified",
            custom_fields=custom,
            created_at=min(created, default=None),
            updated_at=max(updated, default=None),
            **values,
        )
        person.problems = [f"{r.system}: {p}" for r in ordered for p in r.person.problems]
        return UnifiedPerson(
            unified_id,
            person,
            {r.system: str(r.person.id or r.key) for r in ordered},
            {r.system: r.person for r in ordered},
            {r.system: r.status for r in ordered},
            sources,
            conflicts,
            cluster.ambiguity,
        )

    def _pick(self, name: str, candidates: list[Candidate], conflicts: list[Conflict]) -> Candidate | None:
        held = [c for c in candidates if not is_empty(c.value)]
        rule = self.rules.rule_for(name)
        chosen = rule.pick(held)
        if (
            chosen is not None
            and len(held) > 1
            and self.rules.reports(name)
            and not values_agree(name, [c.value for c in held])
        ):
            conflicts.append(Conflict(name, {c.system: c.value for c in held}, chosen.system, rule.describe()))
        return chosen
