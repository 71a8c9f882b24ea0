"""`python -m kiosk.agent --config /etc/sesame-agent/agent.toml [--once]`"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from . import __version__, logs
from .agent import Agent
from .client import ServerRefused, ServerUnavailable
from .config import ConfigError, load_config
from .offline import SnapshotRefused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="sesame-agent", description="Sésame reader agent (docs/kiosk-agent.md)"
    )
    parser.add_argument("--config", default="/etc/sesame-agent/agent.toml")
    parser.add_argument(
        "--once",
        action="store_true",
        help="read one card, send it, print the server's JSON answer as the last line, exit",
    )
    parser.add_argument("--timeout", type=float, default=None, help="with --once: give up after")
    parser.add_argument("--pin-key", action="store_true", help="fetch and pin the snapshot key")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument("--version", action="version", version=f"sesame-agent {__version__}")
    args = parser.parse_args(argv)
    logs.setup(args.log_level)
    try:
        config = load_config(args.config)
    except ConfigError as error:
        logs.log("config_error", level=40, message=str(error))
        print(f"sesame-agent: {error}", file=sys.stderr)
        return 2
    agent = Agent(config)
    if args.pin_key:
        try:
            agent.gate.pin(agent.client.snapshot_key())
        except (ServerUnavailable, ServerRefused, SnapshotRefused) as error:
            logs.log("snapshot_key_not_pinned", level=40, error=str(error))
            print(f"sesame-agent: the snapshot key was not pinned: {error}", file=sys.stderr)
            return 1
        print(json.dumps(agent.gate.pinned_key))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    if args.once:
        # Diagnostics: one heartbeat (it also tells the snapshot which reader we are), then
        # one card; the answer is the last line on stdout.
        agent.heartbeat()
        answer = agent.run(once=True, timeout=args.timeout)
        if answer is None:
            print(json.dumps({"error": "no card read"}))
            return 1
        print(json.dumps(answer, ensure_ascii=False))
        return 0
    threading.Thread(target=agent.housekeeping, name="housekeeping", daemon=True).start()
    try:
        agent.run()
    except KeyboardInterrupt:
        agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
