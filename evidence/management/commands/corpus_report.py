"""python manage.py corpus_report [--strict] [--json]: how complete and how clean the corpus is."""

import json

from django.core.management.base import BaseCommand, CommandError

from evidence.quality import RULES, Coverage, corpus_coverage, problems_by_rule


class Command(BaseCommand):
    help = (
        "Print the corpus coverage (references with PMID/DOI/PMCID and by role; studies per "
        "therapy, subtype, design, result and level; provenance verified vs unverified; sample "
        "sizes reported) and every data-quality problem. With --strict, fail when there are "
        "problems."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Exit with an error (non-zero status) when any data-quality problem is found.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help="Print the report as JSON instead of text.",
        )

    def handle(self, *args, **options):
        coverage = corpus_coverage()
        problems = problems_by_rule()
        n_problems = sum(len(found) for found in problems.values())
        if options["json"]:
            self.stdout.write(
                json.dumps({"coverage": coverage.as_dict(), "problems": problems}, indent=2)
            )
        else:
            self._write_text(coverage, problems, n_problems)
        if n_problems and options["strict"]:
            raise CommandError(f"{n_problems} data-quality problem(s) found; see the list above.")

    # -- text output --------------------------------------------------------------------------

    def _section(self, title: str) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.MIGRATE_HEADING(title))

    def _line(self, label: str, value) -> None:
        self.stdout.write(f"  {label:<38} {value}")

    def _table(self, counts: dict[str, int]) -> None:
        for label, count in counts.items():
            self._line(label, count)

    def _write_text(self, cov: Coverage, problems: dict[str, list[str]], n_problems: int):
        total = cov.references_total

        def share(n: int, of: int) -> str:
            return f"{n} of {of} ({round(100 * n / of) if of else 0}%)"

        self.stdout.write(self.style.SUCCESS("MyoEvidence corpus report"))
        self._section("References")
        self._line("total", total)
        self._line("with PMID", share(cov.references_with_pmid, total))
        self._line("with DOI", share(cov.references_with_doi, total))
        self._line("with PMCID", share(cov.references_with_pmcid, total))
        self._line("with PMID or DOI", share(cov.references_with_pmid_or_doi, total))
        self.stdout.write("  by role:")
        self._table({f"  {role}": n for role, n in cov.references_by_role.items()})

        studies = cov.studies_total
        self._section("Studies")
        self._line("total", studies)
        self._line("with sample size", share(cov.studies_with_sample_size, studies))
        self._line("sample size not reported", cov.studies_without_sample_size)
        for title, counts in (
            ("per therapy", cov.studies_per_therapy),
            ("per subtype", cov.studies_per_subtype),
            ("per design", cov.studies_per_design),
            ("per result", cov.studies_per_result),
            ("per level (Oxford CEBM 2011)", cov.studies_per_level),
        ):
            self.stdout.write(f"  {title}:")
            self._table({f"  {label}": n for label, n in counts.items()})
        if cov.therapies_without_study:
            self._line("therapies with no study", ", ".join(cov.therapies_without_study))

        self._section("Provenance (facts verified by a curator vs not)")
        self._line("studies marked verified", share(cov.studies_verified, studies))
        self._line("provenance records verified", cov.provenance_verified)
        self._line("provenance records unverified", cov.provenance_unverified)
        self._line("facts verified", cov.facts_verified)
        self._line("facts unverified", cov.facts_unverified)

        self._section("Statements (the review's claims)")
        self._line("statements", cov.statements_total)
        self._line("therapies with a statement", cov.therapies_with_statement)

        self._section(f"Data-quality problems: {n_problems}")
        for code, found in problems.items():
            title = RULES[code][0]
            style = self.style.ERROR if found else self.style.SUCCESS
            self.stdout.write(style(f"  [{code}] {title}: {len(found)}"))
            for problem in found:
                self.stdout.write(f"      - {problem}")
