"""python manage.py generate_synthetic --studies N [--force] [--seed S] [--workers W] | --clear"""

import os
import time

from django.core.management.base import BaseCommand, CommandError

from evidence.services.synthetic import SyntheticError, clear_synthetic, generate_synthetic


class Command(BaseCommand):
    help = (
        "Add N synthetic published studies (with references, authors, therapy and subtype "
        "links, outcomes and provenance) drawn from the distributions of the real corpus in "
        "this database, for load testing. Synthetic rows have keys starting 'synthetic-'; "
        "--clear removes them. Refuses a database holding a published real corpus unless "
        "--force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--studies", type=int, metavar="N", help="How many synthetic studies to add."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though the database holds published real content (only in a "
            "database kept for load testing).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=None,
            help="Seed for the random draws, for a repeatable corpus.",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="Processes writing side by side on PostgreSQL (default: one per CPU); "
            "other databases use one.",
        )
        parser.add_argument(
            "--clear",
            action="store_true",
            help="Remove every synthetic row instead (real rows are kept).",
        )

    def handle(self, *args, **options):
        if options["clear"]:
            if options["studies"]:
                raise CommandError("Give either --clear or --studies, not both.")
            report = clear_synthetic()
            for line in report.lines():
                self.stdout.write(line)
            self.stdout.write(self.style.SUCCESS("Synthetic corpus removed."))
            return
        if options["studies"] is None:
            raise CommandError("Say how many studies to add (--studies N), or --clear.")
        self._started = time.monotonic()
        try:
            report = generate_synthetic(
                studies=options["studies"],
                force=options["force"],
                seed=options["seed"],
                workers=options["workers"],
                progress=self._progress if options["verbosity"] else None,
            )
        except SyntheticError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"]:
            for line in report.lines():
                self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(f"{report.studies} synthetic studies added."))

    def _progress(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self._started
        rate = done / elapsed if elapsed else 0
        left = (total - done) / rate if rate else 0
        self.stderr.write(
            f"  {done}/{total} studies ({100 * done // total}%), "
            f"{rate:.0f}/s, about {left:.0f} s left"
        )
