"""The two structured values a Person holds: `Ref` (a department, a role) and `Address`.

They live apart from `person.py` so that the comparison (`compare.py`) and the renderer
(`render.py`) can know them while `person.py` uses both. How they compare is said once, in
`compare.py`; how they are shown, in `render.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Address", "Ref"]


@dataclass(frozen=True)
class Ref:
    """A reference to another record (a department, a role): its id, its name, or both."""

    id: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        # Vendors send ids as ints or strings; canonical ids are strings so they compare equal.
        given: object = self.id  # typed str, but vendors' ints arrive here too
        if given is not None and not isinstance(given, str):
            object.__setattr__(self, "id", str(given))

    def __bool__(self) -> bool:
        return self.id is not None or self.name is not None

    def portable(self) -> Ref | None:
        """This reference as another system can read it: by name only (ids are local to the system
        that made them), or None when it has no name."""
        return Ref(name=self.name) if self.name else None


@dataclass(frozen=True)
class Address:
    """A postal address, structured where the vendor structures it; `formatted` is the one-text form."""

    street: str | None = None
    zip: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    co: str | None = None
    formatted: str | None = None

    PARTS = ("street", "zip", "city", "state", "country", "co")

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in (*self.PARTS, "formatted"))

    def as_text(self) -> str | None:
        """The formatted form; composed from the parts when the vendor gave only parts."""
        if self.formatted:
            return self.formatted
        town = " ".join(p for p in (self.zip, self.city) if p)
        lines = [p for p in (f"c/o {self.co}" if self.co else None, self.street, town, self.state, self.country) if p]
        return "\n".join(lines) or None
