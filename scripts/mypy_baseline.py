#!/usr/bin/env python
"""Type-check services, selectors and the API with mypy, at a baseline that may only shrink.

mypy-baseline.txt holds the errors the code had when type checking started, one per line as
``path: message [code]`` (line numbers left out, so that an edit above an old error does not
look like a new one). This script runs mypy (configured in pyproject.toml) and fails

- on any error that is not in the baseline (fix it, don't add it), and
- when errors in the baseline are gone, so that the file shrinks with the code: run
  ``scripts/mypy_baseline.py --update`` and commit the shorter baseline.

``--update`` only ever removes lines (it refuses while there are new errors). ``--regenerate``
writes the current errors whatever they are: for the integrator after a merge of branches that
each changed typed code, who reviews the diff of mypy-baseline.txt before committing it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:\s]+):(?P<line>\d+): error: (?P<message>.*)$")


def run_mypy() -> list[tuple[str, str]]:
    """(baseline key, mypy's own line) for each error mypy reports."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty", "--no-color-output"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    errors = []
    for line in result.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            errors.append((f"{match['path']}: {match['message']}", line))
    # 0: clean, 1: type errors. Anything else (or 1 without an error line) is mypy failing to
    # run (a bad configuration, a crash): say so rather than compare nothing with the baseline.
    if result.returncode not in (0, 1) or (result.returncode == 1 and not errors):
        sys.exit(f"mypy did not run:\n{result.stdout}{result.stderr}")
    return errors


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    lines = BASELINE.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line and not line.startswith("#"))


def write_baseline(keys: Counter[str]) -> None:
    header = (
        "# mypy errors accepted when type checking began; this list may only shrink.\n"
        "# Written by scripts/mypy_baseline.py (--update or --regenerate), not by hand.\n"
    )
    BASELINE.write_text(header + "".join(f"{k}\n" for k in sorted(keys.elements())), "utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true", help="remove fixed errors (shrink only)")
    mode.add_argument("--regenerate", action="store_true", help="write all current errors")
    args = parser.parse_args()

    errors = run_mypy()
    current = Counter(key for key, _ in errors)
    baseline = read_baseline()
    new = current - baseline
    gone = baseline - current

    if args.regenerate:
        write_baseline(current)
        print(f"mypy-baseline.txt: {sum(current.values())} errors (was {sum(baseline.values())}).")
        return 0
    if new:
        # Report each new error with its line number; when a message repeats, the extra ones
        # are new but mypy cannot say which: all lines with that message are shown.
        print(f"mypy: {sum(new.values())} new error(s) not in mypy-baseline.txt (fix them):")
        for key, line in errors:
            if key in new:
                print(f"  {line}")
        return 1
    if args.update:
        write_baseline(current)
        print(
            f"mypy-baseline.txt shrank by {sum(gone.values())} to {sum(current.values())} errors."
        )
        return 0
    if gone:
        print(f"mypy: {sum(gone.values())} error(s) in mypy-baseline.txt are fixed:")
        for key in sorted(gone.elements()):
            print(f"  {key}")
        print("Shrink the baseline: scripts/mypy_baseline.py --update, and commit it.")
        return 1
    print(f"mypy: no new errors ({sum(current.values())} in the baseline).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
