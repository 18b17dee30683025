"""python manage.py export_corpus DIR: back up the corpus in the format load_corpus reads."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evidence.services.backup import ExportError, export_corpus


class Command(BaseCommand):
    help = (
        "Write every reference, therapy, subtype, study (with outcomes and provenance) and "
        "statement, whatever its review status, to DIR as references.bib plus JSON: the format "
        "load_corpus reads, so `load_corpus DIR` on an empty database restores it identically "
        "(review statuses and verification included; ids, history and users are not)."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", help="Where to write; must be new or empty.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Write into a non-empty directory, replacing the corpus files in it.",
        )

    def handle(self, *args, **options):
        directory = Path(options["directory"])
        try:
            report = export_corpus(directory, force=options["force"])
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"{directory}: cannot be written ({exc.strerror}).") from None
        if options["verbosity"] >= 1:
            for line in report.lines():
                self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"Corpus exported to {directory}."))
