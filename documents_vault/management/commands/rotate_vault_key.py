from django.core.management.base import BaseCommand, CommandError

from documents_vault.actions import maintenance


class Command(BaseCommand):
    help = (
        "Re-wrap every data key of the document safe under the current master key, without "
        "re-encrypting the files. Set the new key in SESAME_VAULT_MASTER_KEY and the old one "
        "in SESAME_VAULT_PREVIOUS_MASTER_KEYS, run this, then drop the old key once it reports "
        "0 remaining. Each key is re-wrapped in its own transaction: after a crash, run it "
        "again to resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args, **options):
        report = maintenance.rotate_master_key(batch_size=options["batch_size"])
        self.stdout.write(
            f"{report.rewrapped} data key(s) re-wrapped, {report.failed} failed, "
            f"{report.remaining} still under an old master key"
        )
        if report.failed:
            raise CommandError(
                "Some data keys were wrapped by a master key that is not configured: add it to "
                "SESAME_VAULT_PREVIOUS_MASTER_KEYS and run the command again."
            )
