#!/usr/bin/env python3
"""sanitized.py - runs an e2e test against the sanitizers' build
(build-san: AddressSanitizer, UBSan): the dpsecd and dpsec-ctld it starts
write any report (a memory error, undefined behaviour, a leak found at
their exit) into a directory of this run, which must stay empty. The
tests themselves see a daemon that aborts, not one that leaks: this is
what makes a leak or a report after which the daemon went on a failure.

    sanitized.py TEST.py [TEST ARGUMENTS...]

Exits with the test's status, or 1 if a sanitizer reported anything (the
reports printed).
"""
import os
import subprocess
import sys
import tempfile


def sanitizer_env(reports):
    """The environment for the test and every daemon it starts."""
    return dict(os.environ,
                ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=%s/asan" % reports,
                UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=%s/ubsan" % reports)


def main():
    if len(sys.argv) < 2:
        print("usage: sanitized.py TEST.py [TEST ARGUMENTS...]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="dpsec-san-") as reports:
        rc = subprocess.call([sys.executable] + sys.argv[1:], env=sanitizer_env(reports))
        found = sorted(os.listdir(reports))
        for name in found:
            with open(os.path.join(reports, name), errors="replace") as f:
                print("---- %s ----\n%s" % (name, f.read()[-20000:]))
    if found:
        print("sanitized: %d sanitizer report(s): %s" % (len(found), ", ".join(found)))
        return 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
