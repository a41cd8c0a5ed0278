from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from forums.importers import parse_article, read_article, save_import
from forums.models import Appearance, Speaker


class Command(BaseCommand):
    help = (
        "Import a forum recap from an article's text (.txt or .md): a new forum with a draft "
        "recap, its speakers, highlights as proposed quotes, themes and transcript."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The article, as a .txt or .md file.")
        parser.add_argument("--slug", help="The new forum's address (default: from the headline).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be imported; save nothing."
        )

    def handle(self, *args, file, slug=None, dry_run=False, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": file, "error": error.strerror}
            ) from error
        try:
            text = read_article(data, filename=path.name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        known = Speaker.objects.order_by("id").values_list("name", "organisation", "title")
        imported = parse_article(text, known_speakers=known)
        self.report(imported)
        if dry_run:
            self.stdout.write("Dry run: nothing was saved.")
            return
        try:
            forum = save_import(imported, user=None, slug=slug)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"Saved as a draft: {forum.get_absolute_url()}"))

    def report(self, imported):
        write = self.stdout.write
        write(f"Headline: {imported.headline}")
        write("Speakers by role:")
        for role in Appearance.Role:
            appearances = [a for a in imported.appearances if a.role == role]
            representatives = sum(a.is_cohort_representative for a in appearances)
            extra = f", cohort representatives: {representatives}" if representatives else ""
            write(f"  {role.label}: {len(appearances)}{extra}")
        write(f"Highlights: {len(imported.highlights)}")
        turns = sum(len(theme.turns) for theme in imported.themes)
        write(f"Themes: {len(imported.themes)} ({turns} turns)")
        for theme in imported.themes:
            write(f"  {theme.title}: {len(theme.turns)} turns")
        write(f"Warnings: {len(imported.warnings)}")
        for warning in imported.warnings:
            where = f"line {warning.line_number}" if warning.line_number else "article"
            line = f" “{warning.line[:40]}”" if warning.line else ""
            write(self.style.WARNING(f"  {where}:{line} {warning.message}"))
