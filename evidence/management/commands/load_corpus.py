"""python manage.py load_corpus [DIR]: load the curated corpus, idempotently."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evidence.services.corpus import CorpusError, load_corpus


class Command(BaseCommand):
    help = (
        "Load the curated corpus (references.bib, therapies, subtypes, studies, statements) "
        "from the fixtures directory. Running it again changes nothing; a problem anywhere "
        "refuses the whole load."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", nargs="?", default=str(settings.MYOEVIDENCE_FIXTURES),
            help="Fixtures directory (default: the project's fixtures/).",
        )

    def handle(self, *args, **options):
        try:
            report = load_corpus(Path(options["directory"]))
        except CorpusError as exc:
            raise CommandError(
                "The corpus was not loaded; nothing was saved. Problems:\n  - "
                + "\n  - ".join(exc.problems)
            ) from None
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Corpus loaded."))
