"""`staffbridge journal show FILE`: what a migration journal (`migrate --journal FILE`) records, per pair:
how many records are done, in flight (a write started whose outcome was never recorded: a rerun looks
them up before writing again) and failed, with each failure's reason."""

from __future__ import annotations

import argparse
import os
from typing import Any

from staffbridge.faces.cli.console import EXIT_FAILED_RECORDS, EXIT_OK, Console, show_section

SHOWN = 20  # records listed per state, unless --all


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = "Shows what a migration journal records: done, in flight, failed (with reasons)."
    actions = parser.add_subparsers(dest="journal_action", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="the journal's records, per migration pair")
    show.add_argument("file", metavar="FILE", help="the journal (migrate --journal FILE)")
    show.add_argument("--pair", metavar="SOURCE->TARGET", help="only this pair (as listed), e.g. csv->moco")
    show.add_argument("--all", action="store_true", help=f"list every record, not the first {SHOWN} per state")
    show.add_argument("--json", action="store_true", help="every entry as JSON")
    show.set_defaults(run=cmd_show)


def cmd_show(args: argparse.Namespace, console: Console) -> int:
    from staffbridge.model.errors import ConfigError
    from staffbridge.store.backends import open_store

    if not os.path.isfile(args.file):  # opening a store creates it: a typo must not make an empty journal
        raise ConfigError(f"{args.file}: no such journal file", setting="journal")
    with open_store(args.file) as store:
        pairs = store.journal_pairs()
        if args.pair is not None:
            if args.pair not in pairs:
                raise ConfigError(f"{args.file}: no pair {args.pair!r} (pairs: {', '.join(pairs) or 'none'})")
            pairs = [args.pair]
        journals = {pair: store.journal_entries(pair) for pair in pairs}
    if args.json:
        console.json({pair: [_entry(e) for e in entries] for pair, entries in journals.items()})
    elif not journals:
        console.out(f"{args.file}: an empty journal (no migration has written through it)")
    for pair, entries in journals.items() if not args.json else ():
        _show_pair(console, pair, entries, args.all)
    failed = any(e.state == "failed" or e.in_flight for entries in journals.values() for e in entries)
    return EXIT_FAILED_RECORDS if failed else EXIT_OK


def _show_pair(console: Console, pair: str, entries: list[Any], everything: bool) -> None:
    done = [e for e in entries if e.state in ("done", "deleted")]
    in_flight = [e for e in entries if e.in_flight]
    failed = [e for e in entries if e.state == "failed"]
    last = max((e.changed_at for e in entries), default="-")
    console.out(f"{pair}: {len(entries)} records, last change {last}")
    console.out(f"  {'done':<10} {len(done):>6}")
    console.out(f"  {'in flight':<10} {len(in_flight):>6}")
    console.out(f"  {'failed':<10} {len(failed):>6}")
    sections: tuple[tuple[str, list[Any], str], ...] = (
        ("In flight (a rerun with this journal looks each up before writing again)", in_flight, "~"),
        ("Failed (a rerun with this journal tries again)", failed, "x"),
    )
    if everything:
        sections = (("Done", done, "="), *sections)
    for title, listed, mark in sections:
        lines = [f"{mark} {_line(entry)}" for entry in listed]
        shown = None if everything else SHOWN
        show_section(console, title, lines, shown=shown, more="--all lists every record, --json too", indent="    ")


def _line(entry: Any) -> str:
    ids = " -> ".join(i for i in (entry.source_id, entry.target_id) if i) or entry.key
    text = f"{entry.action or '?'} {ids} ({entry.state}, {entry.changed_at})"
    return f"{text}: {entry.reason}" if entry.reason else text


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "key": entry.key,
        "source_id": entry.source_id,
        "target_id": entry.target_id,
        "action": entry.action,
        "state": entry.state,
        "in_flight": entry.in_flight,
        "reason": entry.reason,
        "changed_at": entry.changed_at,
    }
