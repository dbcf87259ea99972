"""What a migration plan sees: the target's listing (indexed by id and match keys, with the
translator that knows its fields and names), and the source's people matched against it one at a
time as the source is read (`WhoIsWho`, the plan's first pass). `Sight.look` translates and diffs a
person once, whether that happens while the source is still being read (to start the full reads it
needs, full_reads.py) or when the plan is made (build.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from staffbridge.jobs.migration.translate import Carried, Change, Translator, digest
from staffbridge.jobs.sync.matching import Key, Match, Matcher, describe_key
from staffbridge.model.person import Person
from staffbridge.sdk.adapter import Adapter

__all__ = ["Look", "Sight", "WhoIsWho", "source_key"]


def source_key(person: Person, matcher: Matcher[Any], index: int) -> str:
    """The journal key of a source record: its id, else its first match-key value, else its position."""
    if person.id:
        return str(person.id)
    for key, value in matcher.values(person).items():
        return f"{describe_key(key)}:{'+'.join(value)}"
    return f"#{index}"


class Sight:
    """What the plan sees of the target: its listing indexed by id and match keys, the translator
    that knows its fields and names, and the journal's word on what earlier runs wrote."""

    def __init__(
        self, target: Adapter, targets: list[Person], keys: tuple[Key, ...], written: dict[str, tuple[str, str | None]]
    ) -> None:
        self.matcher: Matcher[Person] = Matcher(keys).extend(targets)
        self.by_id = {t.id: t for t in targets if t.id is not None}
        self.translator = Translator(target)
        self.translator.learn_refs(targets)
        self.written = written
        # whether the target's listing may not show a stored value (then matched people may need full reads)
        self.listing_may_hide = self.translator.unlisted is None or bool(self.translator.unlisted)
        self.links = {key: target_id for key, (target_id, _) in written.items()}
        self._looks: dict[int, Look] = {}  # id(source person) -> how it looks, worked out once

    def match(self, person: Person, key: str) -> Match[Person]:
        """The target record the journal links `key` to, else the candidates the match keys find."""
        linked = self.by_id.get(self.links.get(key, ""))
        return Match([linked], None, None) if linked is not None else self.matcher.match(person)

    def look(self, person: Person, key: str, current: Person | None) -> Look:
        """`person` (journal key `key`) translated for the target and diffed against `current`, its
        record in the target's listing (None: a create). Worked out once per person: one looked at
        while the source was read is not translated again (the plan keeps every source person
        alive, so ids stay theirs)."""
        seen = self._looks.get(id(person))
        if seen is not None and seen.current is current:
            return seen
        carried = self.translator.carry(person)
        look = self._looks[id(person)] = Look(current, carried)
        if carried.invalid:
            return look
        look.digest = digest(carried.wanted)
        if current is None:
            return look
        look.changes = self.translator.changes(current, carried.wanted)
        if any(self.translator.unseen(c) for c in look.changes):
            # Some vendors list less than they store (WhosOff's list has no phones): the listing
            # cannot say whether such a field already holds the value. What this migration wrote
            # last time (same record, same values) needs no second look; anything else is read.
            if self.written.get(key) == (current.id, look.digest):
                look.changes = [c for c in look.changes if not self.translator.unseen(c)]
            else:
                look.needs_full_read = True
        return look

    def full_read_wanted(self, person: Person, key: str, match: Match[Person]) -> str | None:
        """The id of the target record the plan will read in full for `person`, judged from this
        person alone (the rest of the source may still make it a conflict), or None."""
        current = match.found
        if current is None or current.id is None or person.problems:
            return None
        return current.id if self.look(person, key, current).needs_full_read else None


class WhoIsWho:
    """Pass 1 of a plan, a source person at a time as the source is read: each person's journal key
    and candidates in the target. Duplicates inside the source and target records claimed twice are
    known only once everyone is in (`duplicate`, `claims`)."""

    def __init__(self, sight: Sight, keys: tuple[Key, ...]) -> None:
        self.sight = sight
        self.people: list[Person] = []
        self.found: list[tuple[str, Match[Person]]] = []  # per person: journal key, target candidates
        self.source: Matcher[Person] = Matcher(keys)  # the source people so far
        self.claims: Counter[str] = Counter()  # target id -> source people matching it (and only it)
        self.protected: set[str] = set()  # every target record some source person may be: never deleted

    def add(self, person: Person) -> tuple[str, Match[Person]]:
        """`person`'s journal key and its candidates."""
        key = source_key(person, self.source, len(self.people))
        match = self.sight.match(person, key)
        self.people.append(person)
        self.found.append((key, match))
        self.source.add(person)
        self.protected.update(c.id for c in match.candidates if c.id is not None)
        if match.unique and match.found is not None and match.found.id is not None:
            self.claims[match.found.id] += 1
        return key, match

    def duplicate(self, person: Person) -> str | None:
        """Why `person` is a conflict inside the source (another record added so far shares a key),
        or None."""
        duplicate = self.source.match(person, exclude=person)
        if not duplicate:
            return None
        label = f"{describe_key(duplicate.key or ())} {'+'.join(duplicate.value or ())!r}"
        others = ", ".join(d.label for d in duplicate.candidates[:3])
        return f"source has another record with {label}: {others}"


@dataclass
class Look:
    """A source person as the target would take it, against its record in the target's listing."""

    current: Person | None  # the target's record (None: none, a create)
    carried: Carried
    digest: str | None = None  # of the translation, when valid (the journal keeps it once written)
    changes: list[Change] = field(default_factory=list)  # as far as the listing shows
    needs_full_read: bool = False  # a change in a field the listing may not show: only a full read can tell
