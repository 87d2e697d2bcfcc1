"""Command line: ``python -m cxw_demo generate ...`` and ``... serve-helpdesk ...``; and the
demo company run through cxw: ``demo`` (make demo), ``airflow`` (make airflow), ``cluster``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from cxw_demo.config import DEFAULT_TOKEN

# The commands that run the pipeline (cxw_demo.run, which imports cxw and so Airflow):
# their options are parsed there, so `generate` and `serve-helpdesk` stay light.
RUN_COMMANDS = {
    "demo": "generate the demo company and run the whole pipeline on it through Airflow "
    "(make demo)",
    "airflow": "cxw airflow, on the demo company after `demo` when no sources are "
    "configured (make airflow)",
    "cluster": "cxw cluster (CeleryExecutor) on a demo company up to yesterday",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cxw_demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser("generate", help="write the demo shop's four sources")
    generate.add_argument("--out", type=Path, required=True, help="output folder")
    generate.add_argument("--customers", type=int, default=500)
    generate.add_argument("--start", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD")
    generate.add_argument(
        "--end", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD (inclusive)"
    )
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--gzip", action="store_true", help="write GA4 files as .jsonl.gz")
    generate.add_argument(
        "--as-of", default=None, help="write the sources as they stood then (YYYY-MM-DD[THH:MM])"
    )
    generate.add_argument(
        "--faults",
        default="",
        help="comma-separated malformed records to plant (missing_ids, negative_amounts, "
        "bad_timestamps, unknown_enums, duplicate_ids, extra_column, truncated_file, or all)",
    )

    serve = commands.add_parser("serve-helpdesk", help="serve the helpdesk data as a Zendesk API")
    serve.add_argument(
        "--data", type=Path, required=True, help="generate's output folder (or its helpdesk/)"
    )
    serve.add_argument("--port", type=int, default=0, help="0 picks a free port")
    serve.add_argument("--token", default=DEFAULT_TOKEN)
    serve.add_argument(
        "--now", type=int, default=None, help="the server's clock (unix); default: real time"
    )
    serve.add_argument("--rate-limit-every", type=int, default=0)
    serve.add_argument("--retry-after", type=int, default=1)
    serve.add_argument("--error-every", type=int, default=0)
    serve.add_argument("--error-burst", type=int, default=1)
    serve.add_argument("--delay", type=float, default=0.0, help="seconds added to each response")
    serve.add_argument(
        "--repeat-last-item", action="store_true", help="cursor pages repeat their last item"
    )
    for name, summary in RUN_COMMANDS.items():
        commands.add_parser(name, help=f"{summary}; see `{name} --help`", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command in RUN_COMMANDS:
        from cxw_demo.run import main as run

        return run([args.command, *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "generate":
        from cxw_demo.generate import generate

        began = time.perf_counter()
        manifest = generate(
            args.out,
            args.customers,
            args.start,
            args.end,
            args.seed,
            args.gzip,
            args.as_of,
            [name for name in args.faults.split(",") if name],
        )
        seconds = time.perf_counter() - began
        print(
            f"generated {args.customers} customers, {args.start} to {args.end}, seed {args.seed} "
            f"into {args.out} in {seconds:.1f} s"
        )
        for source, counts in manifest["counts"].items():
            print(f"  {source}: " + ", ".join(f"{name} {value}" for name, value in counts.items()))
        for fault, files in manifest["faults"].items():
            print(f"  fault {fault}: {', '.join(files)}")
        return 0
    from cxw_demo.helpdesk_server import HelpdeskServer, ServerFaults

    data = args.data / "helpdesk" if (args.data / "helpdesk").is_dir() else args.data
    faults = ServerFaults(
        rate_limit_every=args.rate_limit_every,
        retry_after=args.retry_after,
        error_every=args.error_every,
        error_burst=args.error_burst,
        delay_seconds=args.delay,
        repeat_last_item=args.repeat_last_item,
    )
    server = HelpdeskServer(data, token=args.token, now=args.now, faults=faults, port=args.port)
    server.start()
    print(f"helpdesk API on {server.url} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
