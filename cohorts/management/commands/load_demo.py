import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cohorts.demo import load_demo


def iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(_("The start date must look like 2026-09-01.")) from error


class Command(BaseCommand):
    help = "Load the demo programme: the seed forum, the six topics, a cohort and demo accounts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--start", type=iso_date, help="The demo cohort's first day (default: today)."
        )
        parser.add_argument(
            "--password",
            help="Password for the demo accounts it creates (default: a random one, printed).",
        )

    def handle(self, *args, start=None, password=None, **options):
        result = load_demo(start=start, password=password)
        if result.created:
            self.stdout.write(f"Created {len(result.created)} demo records:")
            for line in result.created:
                self.stdout.write(f"  {line}")
        else:
            self.stdout.write("The demo data is loaded already; nothing changed.")
        for email, secret in result.passwords.items():
            self.stdout.write(self.style.SUCCESS(f"Demo account {email}  password: {secret}"))
        for email in result.existing_accounts:
            self.stdout.write(f"Demo account {email} exists; its password is unchanged.")
