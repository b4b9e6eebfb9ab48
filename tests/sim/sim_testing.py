"""Shared by kubesim's own tests: start a server, run a list of checks."""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def start_kubesim(directory, name, args):
    """Start kubesim in directory with extra args; wait for its one line.
    -> (process, https port, http port, kubeconfig path)."""
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "kubesim.py"), "--dir",
         directory] + list(args),
        stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    m = re.fullmatch(r"kubesim listening on https://127\.0\.0\.1:(\d+) "
                     r"\(http://127\.0\.0\.1:(\d+)\), kubeconfig (\S+)\n",
                     line)
    if not m:
        proc.kill()
        raise SystemExit(f"{name}: bad start line {line!r}")
    return proc, int(m.group(1)), int(m.group(2)), m.group(3)


def run_checks(name, proc, checks, arg, after_each=None):
    """Run every check on arg, report failures and go on; stop the server
    at the end. Prints "NAME: N passed, N failed"; -> exit status."""
    failed = []
    try:
        for check in checks:
            try:
                check(arg)
            except Exception as err:  # report and go on
                failed.append(check.__name__)
                print(f"FAIL {check.__name__}: {type(err).__name__}: "
                      f"{err}", file=sys.stderr)
            if after_each:
                after_each()
    finally:
        proc.terminate()
        proc.wait(10)
    passed = len(checks) - len(failed)
    print(f"{name}: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0
