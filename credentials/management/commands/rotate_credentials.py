"""`python manage.py rotate_credentials`: re-encrypt stored credentials with the first key of NODEFLOW_SECRET_KEYS."""

from django.core.management.base import BaseCommand, CommandError

from credentials.services import CredentialUnavailable, rotate_credentials


class Command(BaseCommand):
    help = ("Encrypt every stored credential again with the first key of NODEFLOW_SECRET_KEYS. Rotating a key: "
            "put the new key first (keep the old one after it), run this, then remove the old key.")

    def handle(self, *args, **options):
        try:
            count = rotate_credentials()
        except CredentialUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"re-encrypted {count} credential(s) with the first key")
