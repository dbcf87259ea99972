"""`staffbridge apply PLANFILE`: writes exactly the plan `migrate ... --plan PLANFILE` saved, after checking
that the target still is as the plan saw it (see staffbridge.jobs.migration.planfile)."""

from __future__ import annotations

import argparse
from typing import Any

from staffbridge.faces.cli.arguments import UsageError
from staffbridge.faces.cli.console import EXIT_CANNOT_START, EXIT_FAILED_RECORDS, EXIT_INTERRUPTED, EXIT_OK, Console
from staffbridge.faces.cli.plan_outputs import report_interrupted, write_report
from staffbridge.faces.cli.systems import connect


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Applies a plan saved by `staffbridge migrate SOURCE TARGET --plan PLANFILE`: the same creates, the "
        "same field changes. Refuses, writing nothing, when a record the plan touches changed since."
    )
    parser.add_argument("plan", metavar="PLANFILE", help="the plan file to apply")
    parser.add_argument("--journal", metavar="FILE", help="record each write (default: the journal the plan names)")
    parser.add_argument("--report", metavar="FILE", help="write the report (.html a review page, .csv, else JSON)")
    parser.add_argument("--workers", type=int, default=4, metavar="N", help="parallel writes (default 4)")
    parser.add_argument("--json", action="store_true", help="the report (or the drift) as JSON")
    parser.set_defaults(run=cmd_apply)


def cmd_apply(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.faces.cli.migrate import show_report
    from staffbridge.jobs.migration.planfile import PlanDrift, load_plan

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    saved = load_plan(args.plan)
    source, target_ref = saved.source, saved.target
    if not args.json:
        summary = saved.summary()
        writes = ", ".join(f"{summary[a]} {a}" for a in ("create", "update", "delete") if summary.get(a))
        console.out(f"Plan {args.plan}: {source.name} -> {target_ref.name} ({writes or 'nothing to write'})")
    bar = console.progress()
    with connect(args, target_ref.name, console, read_from=False) as target:
        try:
            report = saved.apply(target, journal=args.journal, workers=args.workers, progress=bar)
        except PlanDrift as drift:
            bar.close()
            return _refuse(console, args, saved, drift)
        except KeyboardInterrupt as stop:
            bar.close()
            again = f"staffbridge apply {args.plan}" + (f" --journal {args.journal}" if args.journal else "")
            resume = (
                f"run `{again}` again: what the journal holds is not written twice"
                if args.journal or saved.journal_path
                else f"run `{again} --journal FILE` (this plan names no journal, so nothing recorded what was "
                "written: the check against the target will list it as changed)"
            )
            done = getattr(stop, "report", None)
            report_interrupted(console, args.report, done, saved, source.name, target_ref.name, resume)
            return EXIT_INTERRUPTED
        finally:
            bar.close()
    if args.report:
        write_report(args.report, report, saved.steps(), saved, source.name, target_ref.name)
    if args.json:
        console.json({"plan": args.plan, "report": report.to_dict()})
    else:
        show_report(console, report)
        if args.report:
            console.out(f"Report written to {args.report}.")
    return EXIT_OK if report.ok else EXIT_FAILED_RECORDS


def _refuse(console: Console, args: argparse.Namespace, saved: Any, drift: Any) -> int:
    """The target changed since the plan: list what changed, write nothing, say how to plan again."""
    again = " ".join(saved.command) if saved.command else "staffbridge migrate SOURCE TARGET --plan PLANFILE"
    if args.json:
        console.json({"plan": args.plan, "applied": False, "drift": [vars(d) for d in drift.drift]})
    else:
        console.out(f"Changed in {saved.target.name} since the plan was made ({len(drift.drift)}):")
        for item in drift.drift:
            console.out(f"  ! {item}")
    console.error(f"{args.plan}: the target changed since the plan was made; nothing was written. Plan again: {again}")
    return EXIT_CANNOT_START
