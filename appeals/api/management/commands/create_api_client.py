"""Create an API key for a channel partner and print it once."""

from django.core.management.base import BaseCommand

from appeals.api.models import ApiClient


class Command(BaseCommand):
    help = "Create an API client (channel partner) and print its key; the key is not stored and cannot be shown again."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Partner name, e.g. 企业服务小程序")
        parser.add_argument("--channel", choices=[c.value for c in ApiClient.Channel], default=ApiClient.Channel.API)
        parser.add_argument("--quiet", action="store_true", help="Print only the key (for scripts)")

    def handle(self, *args, name: str, channel: str, quiet: bool, **options):
        client, key = ApiClient.create_with_key(name=name, channel=channel)
        if quiet:
            self.stdout.write(key)
            return
        self.stdout.write(f"Created API client #{client.pk} {client.name} ({client.get_channel_display()}).")
        self.stdout.write("Key (shown once; send it as `Authorization: ApiKey <key>`):")
        self.stdout.write(key)
