import json
import urllib.error
import urllib.request
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from card import simulator
from card.demo import demo_card, demo_reader_at, demo_reader_token


class Command(BaseCommand):
    help = (
        "Tap a simulated card at a demo reader of the running server, through the same API a "
        "reader uses; prints the server's JSON answer as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--card", help="card number (default: the demo resident's card)")
        parser.add_argument("--access-point", help="access point id (default: first pool entrance)")
        parser.add_argument(
            "--replay",
            action="store_true",
            help="send the previous message again, as a cloned card would",
        )
        parser.add_argument("--server", default="http://127.0.0.1:8000")

    def handle(self, *args, card=None, access_point=None, replay=False, server, **options):
        try:
            chosen = demo_card(card)
            reader = demo_reader_at(access_point)
        except LookupError as missing:
            raise CommandError(str(missing)) from missing
        if replay:
            url = simulator.last_tap(chosen.uid)
            if url is None:
                raise CommandError("This card has not been tapped yet: nothing to replay.")
        else:
            url = simulator.next_tap(chosen.uid)
        body = json.dumps(
            {
                "tap_id": str(uuid.uuid4()),
                "credential": url,
                "reader_time": timezone.now().isoformat(),
            }
        ).encode()
        request = urllib.request.Request(  # noqa: S310 - the server is ours, http or https
            f"{server.rstrip('/')}/api/v1/taps",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {demo_reader_token(reader)}",
            },
        )
        self.stderr.write(f"{reader.name}: card {chosen.number}{' (replay)' if replay else ''}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                answer = response.read().decode()
        except urllib.error.HTTPError as error:
            answer = error.read().decode()
        except urllib.error.URLError as error:
            raise CommandError(
                f"The server at {server} does not answer ({error.reason}); is `make run` running?"
            ) from error
        self.stdout.write(answer)
