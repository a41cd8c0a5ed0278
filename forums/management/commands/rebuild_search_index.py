from django.core.management.base import BaseCommand

from forums.search import rebuild_index


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the forums, recaps, transcripts, quotes and speakers "
        "(after a bulk change outside the portal's pages, such as the Django admin or a restore)."
    )

    def handle(self, *args, **options):
        count = rebuild_index()
        self.stdout.write(f"Indexed {count} search entries.")
