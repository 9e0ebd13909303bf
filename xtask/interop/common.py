"""Shared helper for mesolite's pymesos interop programs: PASS/FAIL reporting.

Every check prints one line, `PASS <name>` or `FAIL <name>: <reason>`, which `cargo xtask interop`
counts. A program exits 0 only when all of its checks passed (and at least one ran). pymesos logs
its own warnings and errors to stderr.
"""



class Checks(object):
    """Collects check results and prints each one as it is decided."""

    def __init__(self, program):
        self.program = program
        self.failed = 0
        self.passed = 0

    def ok(self, name, detail=''):
        self.passed += 1
        suffix = ' (%s)' % detail if detail else ''
        print('PASS %s: %s%s' % (self.program, name, suffix), flush=True)

    def fail(self, name, reason):
        self.failed += 1
        print('FAIL %s: %s: %s' % (self.program, name, reason), flush=True)

    def check(self, condition, name, reason, detail=''):
        if condition:
            self.ok(name, detail)
        else:
            self.fail(name, reason)
        return condition

    def exit_code(self):
        return 0 if self.failed == 0 and self.passed > 0 else 1
