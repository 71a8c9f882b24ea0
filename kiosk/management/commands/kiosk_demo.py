"""`make kiosk-demo`: the demo resident's card, emulated on nfcpy's UDP driver, read by the real
reader agent (its own process, gate mode, --once) against the running demo server."""

import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from card import simulator
from card.demo import DEMO_CARD_UID, demo_card, demo_kiosk, demo_reader_at, demo_reader_token
from kiosk.demo import screen_pairing_link
from kiosk.emulator import EmulatedCard, free_udp_port

AGENT_TIMEOUT = 20


class Command(BaseCommand):
    help = (
        "Tap the demo card, emulated over nfcpy's UDP driver, on the real reader agent (gate "
        "mode, --once) against the running server; the agent prints the server's JSON answer "
        "as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--server", default="http://127.0.0.1:8000")
        parser.add_argument("--access-point", help="access point id (default: first pool entrance)")
        parser.add_argument(
            "--kiosk",
            action="store_true",
            help="tap at the demo kiosk of the pool's hall instead (kiosk mode): its screen, "
            "paired with --screen-link, shows the holder",
        )
        parser.add_argument(
            "--screen-link",
            action="store_true",
            help="only print a one-time link pairing a browser with the demo kiosk's screen",
        )

    def handle(self, *args, server, access_point=None, kiosk=False, screen_link=False, **options):
        if screen_link:
            try:
                self.stdout.write(screen_pairing_link(server))
            except LookupError as missing:
                raise CommandError(str(missing)) from missing
            return
        try:
            card = demo_card()
            reader = demo_kiosk() if kiosk else demo_reader_at(access_point)
        except LookupError as missing:
            raise CommandError(str(missing)) from missing
        mode = "kiosk" if kiosk else "gate"

        port = free_udp_port()
        work = Path(settings.VAR_DIR) / "kiosk-demo"
        work.mkdir(parents=True, exist_ok=True)
        config = work / "agent.toml"
        token_file = work / "token"
        token_file.write_text(demo_reader_token(reader) + "\n")
        token_file.chmod(0o600)
        config.write_text(
            "# Written by `make kiosk-demo` (kiosk/management/commands/kiosk_demo.py).\n"
            f'[server]\nurl = "{server.rstrip("/")}"\ntoken_file = "token"\ntimeout = 5.0\n'
            f'retries = 2\n\n[reader]\npath = "udp:127.0.0.1:{port}"\nmode = "{mode}"\n\n'
            f'[agent]\nstate_dir = "{work / "state"}"\n'
        )
        # The card keeps its counter in var/simulated-cards.json, shared with `make tap`:
        # each run is a new, valid tap.
        uid = bytes.fromhex(card.uid or DEMO_CARD_UID)
        emulated = EmulatedCard(
            port=port, uid=uid, url_source=lambda: simulator.next_tap(card.uid), hold_seconds=0.2
        )
        self.stderr.write(
            f"{reader.name}: card {card.number} emulated on udp:127.0.0.1:{port}, "
            "read by the reader agent (python -m kiosk.agent --once)"
        )
        with emulated:
            emulated.present()
            agent = subprocess.run(  # noqa: S603 - our own agent, with our own interpreter
                [
                    sys.executable,
                    "-m",
                    "kiosk.agent",
                    "--config",
                    str(config),
                    "--once",
                    "--timeout",
                    str(AGENT_TIMEOUT),
                ],
                check=False,
                cwd=settings.BASE_DIR,
                stdout=subprocess.PIPE,
                text=True,
                timeout=AGENT_TIMEOUT + 10,
            )
        if agent.returncode != 0:
            self.stdout.write(agent.stdout)
            raise CommandError(f"The agent stopped with code {agent.returncode}.")
        self.stdout.write(agent.stdout.rstrip("\n"))
