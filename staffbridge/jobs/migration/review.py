"""A review page for a migration: one self-contained HTML file a person reads before (or after) the writes.

    write_review("review.html", plan.steps(), source="staff.csv", target="moco", notes=plan.notes)
    write_review("review.html", steps, ..., report=report)     # an applied run: each row's outcome too

Counts per action first (deletes stand out), then tables that sort (click a column) and filter (a
text box and an action chooser, or click a count): every field an update changes, before and after;
each conflict's candidates; why each person cannot be migrated; each note; every record. The page
loads nothing: its style and its few lines of script are inline, and its Content-Security-Policy
forbids anything else, so it opens offline in any browser and never calls out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from pathlib import Path
from typing import IO, Any

from staffbridge.jobs.migration.report import Report, Row
from staffbridge.jobs.migration.steps import Step
from staffbridge.model.output import write_text
from staffbridge.model.render import text_value

__all__ = ["review_html", "write_review"]

ACTIONS = ("create", "update", "unchanged", "conflict", "cannot_migrate", "delete")
WORDS = {"cannot_migrate": "cannot migrate"}


def write_review(path_or_file: str | Path | IO[str], steps: Sequence[Step], **context: Any) -> None:
    """Writes the page (atomically to a path); `context` as for `review_html`."""
    write_text(review_html(steps, **context), path_or_file)


def review_html(
    steps: Sequence[Step],
    *,
    source: str,
    target: str,
    notes: Iterable[str] = (),
    report: Report | None = None,
    read_error: str | None = None,
    made_at: str | None = None,
) -> str:
    """The page for `steps` (a plan's, in its order) from `source` to `target`. With `report` (the
    outcome of applying those steps) each record also shows whether its write went through."""
    rows = _outcomes(steps, report)
    counts = Counter(step.action for step in steps)
    applied = report is not None
    kind = "Applied migration" if applied else "Migration plan"
    when = made_at or dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    parts = [
        _HEAD.format(title=escape(f"{kind}: {source} → {target}")),
        f"<header><h1>{kind}</h1><p class=systems><b>{escape(source)}</b> → <b>{escape(target)}</b></p>",
        f"<p class=meta>{escape(_state_line(applied, report, when))}</p></header>",
        _counts(counts, report),
        _banners(counts, target, applied, read_error),
        _notes(notes),
        _CONTROLS,
        _section(
            "delete",
            "Deletes",
            f"People who will be removed from {target}" if not applied else f"People removed from {target}",
            ("Name", "Email", f"{target} id", "Why", *(("Outcome",) if applied else ())),
            [
                (step, [_name(step), step.person.email if step.person else "", step.target_id, step.reason])
                for step in steps
                if step.action == "delete"
            ],
            rows,
            add_outcome=applied,
        ),
        _section(
            "update",
            "Field changes",
            "Each field an update changes, as the target has it and as it will be",
            ("Name", "Email", "Field", "Before", "After", *(("Outcome",) if applied else ())),
            [
                (step, [_name(step), _email(step), change.field, _Value(change.before), _Value(change.after)])
                for step in steps
                if step.action == "update"
                for change in step.changes
            ],
            rows,
            add_outcome=applied,
        ),
        _section(
            "conflict",
            "Conflicts",
            "Nothing is written for these: each could be more than one record",
            ("Name", "Email", "Why", "Candidates"),
            [
                (step, [_name(step), _email(step), step.reason, "; ".join(c.label for c in step.candidates)])
                for step in steps
                if step.action == "conflict"
            ],
            rows,
        ),
        _section(
            "cannot_migrate",
            "Cannot migrate",
            "Nothing is written for these, for the reason given",
            ("Name", "Email", "Reason"),
            [(step, [_name(step), _email(step), step.reason]) for step in steps if step.action == "cannot_migrate"],
            rows,
        ),
        _section(
            "notes",
            "Notes",
            "What a write leaves out, and why",
            ("Action", "Name", "Email", "Note"),
            [(step, [_Action(step.action), _name(step), _email(step), n]) for step in steps for n in step.notes],
            rows,
        ),
        _section(
            "all",
            "Every record",
            "Each record of the source, then the deletes",
            ("Action", *(("Outcome",) if applied else ()), "Name", "Email", "Source id", "Target id", "Details"),
            [(step, _record_cells(step, rows.get(id(step)))) for step in steps],
            rows,
        ),
        _SCRIPT,
        "</body></html>\n",
    ]
    return "".join(parts)


# ------------------------------------------------------------------ parts of the page


class _Action:
    """An action, shown as a coloured label."""

    def __init__(self, action: str) -> None:
        self.action = action


class _Value:
    """A before/after value: shown in its text form; an empty one says so."""

    def __init__(self, value: Any) -> None:
        self.text = text_value(value)


def _outcomes(steps: Sequence[Step], report: Report | None) -> dict[int, Row]:
    """id(step) -> its report row. The applier keeps the plan's order (after a "read" row, if any)."""
    if report is None:
        return {}
    rows = [row for row in report.rows if row.action != "read"]
    if len(rows) != len(steps):
        return {}
    return {id(step): row for step, row in zip(steps, rows, strict=True)}


def _state_line(applied: bool, report: Report | None, when: str) -> str:
    if report is None:
        return f"Planned {when}. Nothing has been written yet."
    totals = report.totals
    return f"Applied {when}: {totals['ok']} records ok, {totals['failed']} failed."


def _counts(counts: Counter[str], report: Report | None) -> str:
    cards = [
        f'<button type=button class="count a-{a}" data-action="{a}" aria-pressed=false>'
        f'<span class=n data-count="{a}">{counts.get(a, 0)}</span><span class=w>{WORDS.get(a, a)}</span></button>'
        for a in ACTIONS
    ]
    if report is not None:
        totals = report.totals
        cards += [
            f'<div class="count s-{s}"><span class=n data-count="{s}">{totals[s]}</span><span class=w>{s}</span></div>'
            for s in ("ok", "failed")
        ]
    return f"<section class=counts aria-label='counts per action'>{''.join(cards)}</section>"


def _banners(counts: Counter[str], target: str, applied: bool, read_error: str | None) -> str:
    out = []
    deletes = counts.get("delete", 0)
    if deletes:
        verb = "were deleted from" if applied else "will be deleted from"
        out.append(f"<p class='banner danger'>{deletes} {_people(deletes)} {verb} {escape(target)}: see Deletes.</p>")
    if read_error:
        out.append(f"<p class='banner warn'>The source could not be read completely: {escape(read_error)}.</p>")
    return "".join(out)


def _notes(notes: Iterable[str]) -> str:
    notes = list(notes)
    if not notes:
        return ""
    items = "".join(f"<li>{escape(note)}</li>" for note in notes)
    return f"<section class=plan-notes><h2>About the whole run</h2><ul>{items}</ul></section>"


def _section(
    name: str,
    title: str,
    blurb: str,
    headings: Sequence[str],
    lines: Sequence[tuple[Step, list[Any]]],
    outcomes: dict[int, Row],
    add_outcome: bool = False,
) -> str:
    """One table; `add_outcome` appends each record's outcome (an applied run)."""
    if not lines:
        return ""
    body = []
    for step, cells in lines:
        row = outcomes.get(id(step))
        if add_outcome:
            cells = [*cells, _outcome(row)]
        failed = " failed" if row is not None and not row.ok else ""
        tds = "".join(_cell(value) for value in cells)
        body.append(f'<tr class="a-{step.action}{failed}" data-action="{step.action}">{tds}</tr>')
    ths = "".join(f"<th scope=col><button type=button class=sort>{escape(h)}</button></th>" for h in headings)
    return (
        f"<section class='records s-{name}' id='{name}'><h2>{escape(title)} "
        f"<span class=shown data-total={len(lines)}>{len(lines)} of {len(lines)}</span></h2>"
        f"<p class=blurb>{escape(blurb)}</p><div class=scroll><table data-table='{name}'>"
        f"<thead><tr>{ths}</tr></thead><tbody>{''.join(body)}</tbody></table></div></section>"
    )


def _record_cells(step: Step, row: Row | None) -> list[Any]:
    person = step.person
    details = step.reason or "; ".join(step.notes)
    if step.changes:
        details = ", ".join(c.field for c in step.changes) + (f" ({details})" if details else "")
    if row is not None and not row.ok and row.reason and row.reason != details:
        details = f"{row.reason}" if not details else f"{row.reason}; planned: {details}"
    cells: list[Any] = [_Action(step.action)]
    if row is not None:
        cells.append(_outcome(row))
    return [*cells, _name(step), person.email if person else "", step.source_id, step.target_id, details]


def _outcome(row: Row | None) -> str:
    if row is None:
        return ""
    return "ok" if row.ok else f"failed: {row.reason}" if row.reason else "failed"


def _cell(value: Any) -> str:
    if isinstance(value, _Action):
        return f"<td><span class='pill p-{value.action}'>{WORDS.get(value.action, value.action)}</span></td>"
    if isinstance(value, _Value):
        return "<td class=empty>(empty)</td>" if not value.text else f"<td class=value>{escape(value.text)}</td>"
    return f"<td>{escape(text_value(value))}</td>"


def _name(step: Step) -> str:
    person = step.person
    return (person.full_name or person.email or person.id or "?") if person is not None else "?"


def _email(step: Step) -> str:
    person = step.person
    return person.email or "" if person is not None else ""


def _people(count: int) -> str:
    return "person" if count == 1 else "people"


_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'">
<title>{title}</title>
<style>
:root {{ --ink:#1d2330; --muted:#5d6678; --line:#dfe3ea; --bg:#f6f7f9; --card:#fff;
  --create:#1f7a3f; --update:#1c5fb8; --unchanged:#6b7280; --conflict:#a55b00; --cannot:#8a3ab9; --delete:#c0262d; }}
* {{ box-sizing:border-box; }}
body {{ margin:0; padding:24px 32px 48px; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--ink); background:var(--bg); }}
h1 {{ margin:0; font-size:22px; }} h2 {{ font-size:17px; margin:0 0 2px; }}
.systems {{ margin:4px 0 0; font-size:16px; }} .meta, .blurb {{ color:var(--muted); margin:4px 0 10px; }}
.counts {{ display:flex; flex-wrap:wrap; gap:10px; margin:18px 0; }}
.count {{ font:inherit; min-width:118px; padding:10px 14px; border:1px solid var(--line); border-top:4px solid;
  border-radius:8px; background:var(--card); color:inherit; text-align:left; cursor:pointer; }}
div.count {{ cursor:default; }}
.count .n {{ display:block; font-size:26px; font-weight:650; }} .count .w {{ color:var(--muted); }}
.count[aria-pressed=true] {{ outline:3px solid #9db8e8; }}
.a-create {{ border-top-color:var(--create); }} .a-update {{ border-top-color:var(--update); }}
.a-unchanged {{ border-top-color:var(--unchanged); }} .a-conflict {{ border-top-color:var(--conflict); }}
.a-cannot_migrate {{ border-top-color:var(--cannot); }} .a-delete {{ border-top-color:var(--delete); }}
.s-ok {{ border-top-color:var(--create); }} .s-failed {{ border-top-color:var(--delete); }}
button.count.a-delete .n {{ color:var(--delete); }}
.banner {{ padding:10px 14px; border-radius:8px; margin:0 0 12px; font-weight:600; }}
.danger {{ background:#fde8e8; color:#8c1c22; border:1px solid #f3b7b9; }}
.warn {{ background:#fff4e0; color:#7a4a00; border:1px solid #f1d29a; }}
.plan-notes {{ background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 16px;
  margin:0 0 14px; }}
.plan-notes ul {{ margin:6px 0 0; padding-left:20px; }}
.controls {{ position:sticky; top:0; z-index:2; display:flex; gap:10px; align-items:center; padding:10px 0;
  background:var(--bg); border-bottom:1px solid var(--line); margin-bottom:14px; }}
.controls input {{ flex:1; max-width:460px; padding:7px 10px; font:inherit; border:1px solid #b9c0cc;
  border-radius:6px; }}
.controls select {{ padding:7px; font:inherit; border:1px solid #b9c0cc; border-radius:6px; background:#fff; }}
.records {{ background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px;
  margin:0 0 16px; }}
.s-delete {{ border:2px solid var(--delete); }} .s-delete h2 {{ color:var(--delete); }}
.shown {{ font-weight:400; color:var(--muted); font-size:13px; margin-left:6px; }}
.scroll {{ overflow-x:auto; }}
table {{ border-collapse:collapse; width:100%; }}
th {{ text-align:left; border-bottom:2px solid var(--line); padding:0; white-space:nowrap; }}
th button.sort {{ font:inherit; font-weight:600; background:none; border:0; padding:6px 18px 6px 8px; cursor:pointer;
  color:inherit; position:relative; }}
th button.sort::after {{ content:"↕"; position:absolute; right:4px; color:#a3aab8; }}
th[aria-sort=ascending] button.sort::after {{ content:"▲"; color:var(--ink); }}
th[aria-sort=descending] button.sort::after {{ content:"▼"; color:var(--ink); }}
td {{ padding:6px 8px; border-bottom:1px solid #eef0f4; vertical-align:top; }}
tbody tr:hover {{ background:#f3f6fb; }}
td.value {{ font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:13px; }}
td.empty {{ color:#9aa1ae; font-style:italic; }}
tr.a-delete td {{ background:#fff1f1; }} tr.a-delete td:first-child {{ border-left:4px solid var(--delete); }}
tr.failed td {{ background:#fff6e5; }}
tr[hidden] {{ display:none; }}
.pill {{ display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600;
  white-space:nowrap; color:#fff; }}
.p-create {{ background:var(--create); }} .p-update {{ background:var(--update); }}
.p-unchanged {{ background:var(--unchanged); }} .p-conflict {{ background:var(--conflict); }}
.p-cannot_migrate {{ background:var(--cannot); }} .p-delete {{ background:var(--delete); }}
</style></head><body>
"""

_CONTROLS = """<div class=controls role=search>
<input id=filter type=search placeholder="Filter: a name, an email, a field, a reason…" aria-label="filter rows">
<select id=action aria-label="show one action"><option value="">every action</option>
<option value=create>create</option><option value=update>update</option><option value=unchanged>unchanged</option>
<option value=conflict>conflict</option><option value=cannot_migrate>cannot migrate</option>
<option value=delete>delete</option></select></div>
"""

_SCRIPT = """<script>
(function () {
  var filter = document.getElementById("filter"), action = document.getElementById("action");
  function apply() {
    var words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean), chosen = action.value;
    document.querySelectorAll("section.records").forEach(function (section) {
      var shown = 0, rows = section.querySelectorAll("tbody tr");
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var show = (!chosen || row.dataset.action === chosen) &&
          words.every(function (w) { return text.indexOf(w) >= 0; });
        row.hidden = !show; if (show) shown++;
      });
      section.querySelector(".shown").textContent = shown + " of " + rows.length;
    });
    document.querySelectorAll("button.count").forEach(function (card) {
      card.setAttribute("aria-pressed", String(card.dataset.action === chosen));
    });
  }
  filter.addEventListener("input", apply);
  action.addEventListener("change", apply);
  document.querySelectorAll("button.count").forEach(function (card) {
    card.addEventListener("click", function () {
      action.value = action.value === card.dataset.action ? "" : card.dataset.action; apply();
    });
  });
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  document.querySelectorAll("th button.sort").forEach(function (button) {
    button.addEventListener("click", function () {
      var th = button.parentElement, table = th.closest("table"), column = th.cellIndex;
      var descending = th.getAttribute("aria-sort") === "ascending";
      table.querySelectorAll("th").forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var order = collator.compare(a.cells[column].textContent, b.cells[column].textContent);
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
</script>
"""
