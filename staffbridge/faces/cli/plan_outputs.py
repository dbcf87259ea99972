"""What `migrate` and `apply` write besides the terminal output: the plan file (`migrate --plan FILE`) and
the report, which for a path ending in .html is a review page (`--report review.html`, of a plan too)."""

from __future__ import annotations

import argparse
from typing import Any

from staffbridge.faces.cli.arguments import UsageError
from staffbridge.faces.cli.systems import config_of

REVIEW_SUFFIXES = (".html", ".htm")


def check_outputs(args: argparse.Namespace) -> None:
    """`migrate`'s --plan and --report, checked before anything is read."""
    if args.plan and args.apply:
        raise UsageError("--plan saves the plan for `staffbridge apply PLANFILE`; leave out --apply")
    if args.report and not args.apply and not is_review(args.report):
        raise UsageError("--report is written by a run with --apply (a plan's review page: --report FILE.html)")


def is_review(path: str) -> bool:
    return path.lower().endswith(REVIEW_SUFFIXES)


def save_plan_file(args: argparse.Namespace, plan: Any) -> None:
    """Saves `plan` as `migrate --plan FILE` asked: the systems by the names given, no settings."""
    from staffbridge.jobs.migration.planfile import SystemRef, save_plan
    from staffbridge.model.errors import StaffbridgeError

    try:
        save_plan(
            plan,
            args.plan,
            source=SystemRef(args.source, plan.source.name),
            target=SystemRef(args.target, plan.target.name),
            journal=args.journal,
            mapping=args.map,
            command=_command(args),
        )
    except OSError as exc:
        raise StaffbridgeError(f"cannot write the plan to {args.plan}: {exc.strerror}") from None


def _command(args: argparse.Namespace) -> list[str] | None:
    argv = getattr(args, "argv", None)
    config = config_of(args).explicit
    if argv is None:
        return None
    return ["staffbridge", *(["--config", config] if config and "--config" not in argv else []), *argv]


def write_report(path: str, report: Any, steps: list[Any], plan: Any, source: str, target: str) -> None:
    """The report of an applied run at `path`: a review page (.html), CSV, or JSON."""
    from staffbridge.model.errors import StaffbridgeError

    try:
        if is_review(path):
            write_review_page(path, steps, plan, source, target, report)
        elif path.lower().endswith(".csv"):
            report.to_csv(path)
        else:
            report.to_json(path)
    except OSError as exc:
        raise StaffbridgeError(f"cannot write the report to {path}: {exc.strerror}") from None


def write_review_page(path: str, steps: list[Any], plan: Any, source: str, target: str, report: Any = None) -> None:
    from staffbridge.jobs.migration.review import write_review

    notes = report.notes if report is not None else plan.notes  # an applied run's notes include the plan's
    write_review(path, steps, source=source, target=target, notes=notes, report=report, read_error=plan.read_error)


def report_interrupted(
    console: Any, report_path: str | None, report: Any, plan: Any, source: str, target: str, resume: str
) -> None:
    """Ctrl-C while applying (`migrate --apply` or `apply`): the report of what was done so far
    (`report` rides on the interruption; None when nothing was written yet), and how to go on."""
    if report is not None and report_path:
        write_report(report_path, report, plan.steps(), plan, source, target)
    done = "nothing was written" if report is None else f"{len(report.rows)} rows done"
    kept = f"; report of those in {report_path}" if report is not None and report_path else ""
    console.error(f"interrupted: {done}{kept}; what was sent is journalled. To resume, {resume}")
