import json
import urllib.error
import urllib.request
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from card import simulator
from card.demo import DEMO_READER_PREFIX, demo_reader_token
from card.models import Card, Reader
from identity.demo import RESIDENT_EMAIL
from services.catalog.demo import first_pool_entrance


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
        cards = Card.objects.filter(kind=Card.Kind.NFC, uid__isnull=False)
        chosen = (
            cards.filter(number=card).first()
            if card
            else cards.filter(holder__user__email=RESIDENT_EMAIL).order_by("-pk").first()
        )
        if chosen is None:
            raise CommandError(f"No NFC card {card or 'for the demo resident'} (make demo?).")
        point_id = access_point or first_pool_entrance().public_id
        reader = Reader.objects.filter(
            access_point__public_id=point_id,
            token_prefix__startswith=DEMO_READER_PREFIX,
            revoked_at__isnull=True,
        ).first()
        if reader is None:
            raise CommandError(f"No demo reader at access point {point_id}.")
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
