"""python manage.py load_corpus [DIR] [--force]: load the curated corpus, keeping curators'
edits."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evidence.services.corpus import CorpusError, load_corpus


class Command(BaseCommand):
    help = (
        "Load the curated corpus (references.bib, therapies, subtypes, studies, statements) "
        "from the fixtures directory: adds new entries and applies changed fixtures, but keeps "
        "every entry a curator changed since the last load (and names it), unless --force. "
        "Never deletes an entry. Running it again changes nothing; a problem anywhere refuses "
        "the whole load."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "directory",
            nargs="?",
            default=str(settings.MYOEVIDENCE_FIXTURES),
            help="Fixtures directory (default: the project's fixtures/).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite entries curators changed with the fixtures' version (each one is "
            "named; the history keeps the curator's version).",
        )

    def handle(self, *args, **options):
        try:
            report = load_corpus(Path(options["directory"]), force=options["force"])
        except CorpusError as exc:
            raise CommandError(
                "The corpus was not loaded; nothing was saved. Problems:\n  - "
                + "\n  - ".join(exc.problems)
            ) from None
        for line in report.lines():
            style = self.style.WARNING if line.startswith(("kept:", "overwritten:")) else str
            self.stdout.write(style(line))
        if report.kept:
            one = len(report.kept) == 1
            self.stdout.write(
                self.style.WARNING(
                    f"Corpus loaded; {len(report.kept)} curated "
                    f"{'entry was' if one else 'entries were'} kept as curators left "
                    f"{'it' if one else 'them'}. Run load_corpus --force to replace "
                    f"{'it' if one else 'them'} with the fixtures' version."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS("Corpus loaded."))
