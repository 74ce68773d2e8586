#!/usr/bin/env python
"""Re-record the vcrpy cassettes of tests/cassettes/ (what the replay tests play back).

    python scripts/record_cassettes.py                  # against a fresh local server each
    SYNAP_BASE_URL=https://synap-cloud-prod.maximem.ai SYNAP_API_KEY=synap_... \\
        python scripts/record_cassettes.py              # against the hosted service
    python scripts/record_cassettes.py --only batch_create_success --facade async

By default every cassette is recorded against its own fresh local server (`synap.server.
LocalServer`: 127.0.0.1, an ephemeral port, an empty database, B2B tenancy), so counts start
at zero and a run is reproducible. Given both `SYNAP_BASE_URL` and `SYNAP_API_KEY`, the same
calls go to that service instead (it must be a B2B instance that honours Idempotency-Key for
the replay tests' assertions to hold; review the diff before committing).

The scenarios and the normalisation (no Authorization header, no key, a fixed host) are in
tests/replay/cassettes.py. Run the replay tests afterwards: `pytest tests/replay`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.replay import cassettes  # noqa: E402 (needs the path above)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(cassettes.BY_NAME),
        metavar="SCENARIO",
        help="record only this scenario (repeatable; default: all)",
    )
    parser.add_argument("--facade", choices=cassettes.FACADES, help="only this facade")
    parser.add_argument(
        "--out",
        type=Path,
        default=cassettes.CASSETTES,
        help="cassette folder (default: %(default)s)",
    )
    args = parser.parse_args(argv)

    base_url = os.environ.get("SYNAP_BASE_URL")
    api_key = os.environ.get("SYNAP_API_KEY")
    if bool(base_url) != bool(api_key):
        print(
            "record_cassettes: set both SYNAP_BASE_URL and SYNAP_API_KEY to record against a "
            "service, or neither to record against a fresh local server",
            file=sys.stderr,
        )
        return 2
    scenarios = (
        [cassettes.BY_NAME[name] for name in args.only] if args.only else cassettes.SCENARIOS
    )
    facades = [args.facade] if args.facade else list(cassettes.FACADES)
    where = base_url or "a fresh local server per cassette"
    print(f"recording {len(scenarios) * len(facades)} cassette(s) against {where}")

    for scenario in scenarios:
        for facade in facades:
            if base_url and api_key:
                recorded = cassettes.record(
                    facade, scenario, base_url=base_url, api_key=api_key, root=args.out
                )
            else:
                from synap.server import LocalServer

                with LocalServer() as server:
                    recorded = cassettes.record(
                        facade, scenario, base_url=server.url, api_key=server.api_key, root=args.out
                    )
            statuses = " ".join(map(str, recorded.statuses))
            print(f"  {recorded.path.relative_to(args.out.resolve())}: {statuses}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
