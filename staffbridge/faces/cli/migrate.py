"""`staffbridge migrate SOURCE TARGET`: shows the plan, and with --apply runs it; also how plans and
reports read on the terminal (the demo shows them the same way)."""

from __future__ import annotations

import argparse
from typing import Any

from staffbridge.faces.cli.arguments import UsageError, add_filter_option, add_match_option, match_keys
from staffbridge.faces.cli.console import EXIT_FAILED_RECORDS, EXIT_INTERRUPTED, EXIT_OK, Console, show_section
from staffbridge.faces.cli.plan_outputs import (
    check_outputs,
    report_interrupted,
    save_plan_file,
    write_report,
    write_review_page,
)
from staffbridge.faces.cli.systems import connect

DEFAULT_MATCH = ("email", "employee_number")
SHOWN = 15  # steps listed per kind of change in a plan, unless --verbose


def add_arguments(move: argparse.ArgumentParser) -> None:
    move.description = "Shows what would change in TARGET; changes nothing without --apply."
    move.add_argument("source", metavar="SOURCE", help="where the people come from (a system or a .csv/.jsonl path)")
    move.add_argument("target", metavar="TARGET", help="where they go (a system or a .csv/.jsonl path)")
    move.add_argument("--apply", action="store_true", help="make the changes (default: only show them)")
    add_match_option(move)
    move.add_argument("--map", metavar="FILE", help="a mapping file laid over the target's (value maps)")
    move.add_argument("--journal", metavar="FILE", help="record each write; a rerun resumes, never duplicates")
    move.add_argument(
        "--report", metavar="FILE", help="write the report (.html a review page, also of a plan; .csv; else JSON)"
    )
    move.add_argument("--plan", metavar="FILE", help="save the plan for `staffbridge apply FILE` (JSON, no secrets)")
    add_filter_option(move, "source people")
    move.add_argument("--delete-missing", action="store_true", help="delete target people no source person matches")
    move.add_argument(
        "--max-delete",
        type=int,
        metavar="N",
        help="refuse a plan deleting more than N people (default: 10, or 5%% of the target if that is more)",
    )
    move.add_argument("--workers", type=int, default=4, metavar="N", help="parallel writes (default 4)")
    move.add_argument(
        "--welcome-email",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask the target to send its welcome email to people created",
    )
    move.add_argument("--json", action="store_true", help="the plan (and report) as JSON")
    move.add_argument("-v", "--verbose", action="store_true", help="list every step of the plan")
    move.set_defaults(run=cmd_migrate)


def cmd_migrate(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.faces.cli.people import parse_filters
    from staffbridge.jobs.migration.run import migrate

    check_outputs(args)
    if args.max_delete is not None and args.max_delete < 0:
        raise UsageError(f"--max-delete {args.max_delete}: give a whole number, 0 or more")
    match = match_keys(args.match or DEFAULT_MATCH)
    filters = parse_filters(args.filter) or None
    bar = console.progress()  # one bar for planning and applying; close() blanks it between
    with (
        connect(args, args.source, console) as source,
        connect(args, args.target, console, read_from=False) as target,
    ):
        try:
            plan = migrate(
                source,
                target,
                match=match,
                mapping=args.map,
                dry_run=True,
                delete_missing=args.delete_missing,
                journal=args.journal,
                workers=args.workers,
                progress=bar,
                welcome_email=args.welcome_email,
                source_filters=filters,
                max_delete=args.max_delete,
            )
        finally:
            bar.close()
        if args.apply and _over_delete_limit(plan):  # refused before anything is shown or written
            from staffbridge.model.errors import StaffbridgeError

            raise StaffbridgeError(
                f"refused: the plan has {len(plan.deletes)} deletes in {plan.target.name}, over the limit of "
                f"{plan.max_delete}; nothing was written (see the plan without --apply; if they are meant, "
                f"--max-delete {len(plan.deletes)})"
            )
        if not args.json:
            show_plan(console, plan, args.verbose)
        if args.plan:
            save_plan_file(args, plan)
        if args.report and not args.apply:
            write_review_page(args.report, plan.steps(), plan, args.source, args.target)
        if not args.apply:
            if args.json:
                console.json(plan.to_dict())
            else:
                console.out("\nNothing was changed: run again with --apply to make these changes.")
                if args.plan:
                    console.out(f"Plan saved to {args.plan}: apply it with `staffbridge apply {args.plan}`.")
                if args.report:
                    console.out(f"Review page written to {args.report}.")
            return EXIT_FAILED_RECORDS if _plan_failed(plan) else EXIT_OK
        try:
            report = plan.apply()
        except KeyboardInterrupt as stop:
            bar.close()
            return _interrupted(console, args, plan, getattr(stop, "report", None))
        finally:
            bar.close()
    if args.report:
        write_report(args.report, report, plan.steps(), plan, args.source, args.target)
    if args.json:
        console.json({"plan": plan.to_dict(), "report": report.to_dict()})
    else:
        console.out("")
        show_report(console, report)
        if args.report:
            console.out(f"Report written to {args.report}.")
    return EXIT_OK if report.ok else EXIT_FAILED_RECORDS


def _interrupted(console: Console, args: argparse.Namespace, plan: Any, report: Any) -> int:
    """Ctrl-C while applying: the report of what was done so far, and how to go on from there."""
    resume = f"run the same command again with --journal {args.journal or 'FILE'}"
    report_interrupted(console, args.report, report, plan, args.source, args.target, resume)
    return EXIT_INTERRUPTED


def show_plan(console: Console, plan: Any, verbose: bool = False) -> None:
    summary = plan.summary()
    console.out(
        f"Plan: {plan.source.name} -> {plan.target.name} "
        f"({summary['source']} people in the source, {summary['target']} in the target)"
    )
    for key in ("create", "update", "unchanged", "conflict", "cannot_migrate", "delete", "left_alone", "notes"):
        if key in summary:  # the last two only when there are any
            console.out(f"  {key.replace('_', ' '):<15} {summary[key]:>6}")
    if getattr(plan, "read_error", None):
        console.out(f"  the source could not be read completely: {plan.read_error}")
    sections = (
        ("create", "+", plan.creates),
        ("update", "~", plan.updates),
        ("conflict", "!", plan.conflicts),
        ("cannot migrate", "!", plan.cannot_migrate),
        ("delete", "-", plan.deletes),
    )
    for title, mark, steps in sections:
        lines = [f"{mark} {_step_text(step)}" for step in steps]
        show_section(
            console, title.capitalize(), lines, shown=None if verbose else SHOWN, more="--verbose lists all, --json too"
        )
    noted = plan.note_counts() if hasattr(plan, "note_counts") else {}
    if noted:
        console.out("\nNotes (what the writes will leave out; --json lists them per person):")
        for note, count in noted.items():
            console.out(f"  {count} x {note}")
    for note in getattr(plan, "notes", []) or []:
        console.out(f"note: {note}")


def show_report(console: Console, report: Any) -> None:
    totals = report.totals
    words = (("create", "created"), ("update", "updated"), ("delete", "deleted"), ("unchanged", "unchanged"))
    done = ", ".join(f"{totals[key]} {word}" for key, word in words if totals.get(key))
    console.out(f"Applied: {done or 'nothing to do'}; {totals.get('failed', 0)} failed.")
    for row in report.failures:
        who = " ".join(p for p in (row.name, f"<{row.email}>" if row.email else None) if p) or "?"
        ids = "/".join(i for i in (row.source_id, row.target_id) if i)
        console.out(f"  x {row.action} {ids} {who}: {row.reason}")
    if not report.source_complete:
        console.out("  the source was not read completely: nothing was deleted")


def _step_text(step: Any) -> str:
    text: str = step.label
    if step.changes:
        text += ": " + "; ".join(f"{c.field} {_value(c.before)} -> {_value(c.after)}" for c in step.changes)
    if step.reason:
        text += f": {step.reason}"
    return text


def _value(value: Any) -> str:
    """A plan's before/after value: quoted, so a trailing space or an empty text shows."""
    from staffbridge.model.render import text_value

    shown = text_value(value)
    if not shown:
        return "(empty)"
    text = repr(shown)
    return text if len(text) <= 50 else text[:47] + "..."


def _plan_failed(plan: Any) -> bool:
    return bool(plan.conflicts or plan.cannot_migrate or not plan.source_complete or _over_delete_limit(plan))


def _over_delete_limit(plan: Any) -> bool:
    return plan.max_delete is not None and len(plan.deletes) > plan.max_delete
