#!/usr/bin/env python3
"""scripts/check-readme.py BUILD [README.md]: every example in the README runs as shown.

Two kinds of fenced blocks are examples:

  ```sh       a script: run with bash -e; it must exit 0.
  ```console  a session: each `$ command` line is run with bash and the lines
              after it, up to the next `$ `, are its expected output: each must
              match, in order, some line of what the command printed (a
              subsequence, so the README may leave lines out).  In an expected
              line `...` stands for anything and runs of spaces for any
              spacing; `wall=` fields, a `hash=` field that is not a whole
              hash (`hash=...`) and anything after `#` are not compared: a
              hash shown in full (16 hex digits) is a figure the README states
              as exact (the same run hashes the same everywhere), so it must
              match.  The command's exit status does not matter (a failing
              run is often the point); its output does.

A block is not run when the line before its fence is
`<!-- check-readme: skip REASON -->` (a Kubernetes cluster, root, a
recursive make); the reason is printed.  `<!-- check-readme: exit N -->`
expects a `sh` block to exit N.

A figure the README's prose states as exact is checked through a directive
on a line of its own before the paragraph that states it:

  <!-- check-readme: figure VALUE = COMMAND -->

The paragraph (the lines after the directives, up to a blank line) must
contain VALUE as a whole word, and COMMAND, run with bash in the scratch
directory, must print exactly VALUE: the figure drifting from what it
counts, or the prose from the figure, fails the check.

Blocks run in a scratch directory holding links to the repository's
scenarios/, tests/, docs/, scripts/ and deploy/ and `bin` -> BUILD, so
`bin/clustersim` is the build under test and whatever a block writes
(build/..., t.jsonl) is thrown away.  Each block runs in its own process
group, ended when the block ends (daemons it started in the background go
with it), with a time limit of 120 s.  Blocks run in order within one scratch
directory, so a block may use a file an earlier block wrote.

With --self-test, a README with a wrong expected output, a drifted hash,
a failing `sh` block, a missing skip reason, a figure its command no longer
prints and a figure its paragraph no longer states must each be reported.
"""
import os
import re
import signal
import subprocess
import sys
import tempfile

LIMIT = 120
FENCE = re.compile(r"^```(\w*)\s*$")
DIRECTIVE = re.compile(r"^<!-- check-readme: (skip|exit) ?(.*?) ?-->$")
FIGURE = re.compile(r"^<!-- check-readme: figure (\S+) = (.+?) ?-->$")
HASH = re.compile(r"hash=[0-9a-f]{16}$")


def blocks(text):
    """(line number, language, directive, body lines) of every fenced block."""
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        directive = None
        if i > 0:
            d = DIRECTIVE.match(lines[i - 1].strip())
            if d:
                directive = (d.group(1), d.group(2))
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        out.append((start + 1, lang, directive, lines[i + 1:j]))
        i = j + 1
    return out


def run(script, cwd, env):
    """Runs a bash script in its own process group; (status, output)."""
    p = subprocess.Popen(["bash", "-c", script], cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = p.communicate(timeout=LIMIT)
        status = p.returncode
    except subprocess.TimeoutExpired:
        out, status = b"(killed after %d s)" % LIMIT, -1
    try:  # daemons the block left in the background end with it
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return status, out.decode("utf-8", "replace")


def pattern(expected):
    """The regular expression an expected output line stands for."""
    line = expected.split(" #")[0].rstrip()
    parts = []
    for piece in re.split(r"(\.\.\.|\s+|wall=\S+|hash=\S+)", line):
        if not piece:
            continue
        if piece == "...":
            if parts and parts[-1] == r"\s+":
                parts[-1] = r"\s*"
            parts.append(".*")
        elif piece.startswith("wall=") or (piece.startswith("hash=") and not HASH.match(piece)):
            parts.append(r"\S+=\S+")
        elif piece and piece.isspace():
            parts.append(r"\s+")
        else:
            parts.append(re.escape(piece))
    return re.compile("".join(parts))


def check_session(body, cwd, env):
    """Runs every `$ ` command of a console block; a list of problems."""
    problems, i = [], 0
    while i < len(body):
        if not body[i].startswith("$ "):
            i += 1
            continue
        command = body[i][2:]
        j = i + 1
        expected = []
        while j < len(body) and not body[j].startswith("$ "):
            if body[j].strip():
                expected.append(body[j])
            j += 1
        _, out = run(command, cwd, env)
        got = out.split("\n")
        k = 0
        for e in expected:
            rx = pattern(e)
            while k < len(got) and not rx.search(got[k]):
                k += 1
            if k == len(got):
                problems.append("`%s`: expected a line like\n      %s\n    in its output:\n%s" % (
                    command, e, "\n".join("      " + g for g in got[:25])))
                break
            k += 1
        i = j
    return problems


def figures(text):
    """(line number, value, command, paragraph) of every figure directive."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        m = FIGURE.match(line.strip())
        if not m:
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip().startswith("<!--"):
            j += 1
        k = j
        while k < len(lines) and lines[k].strip():
            k += 1
        out.append((i + 1, m.group(1), m.group(2), " ".join(lines[j:k])))
    return out


def check_figure(value, command, paragraph, cwd, env):
    """A problem with one stated figure, or None."""
    if not re.search(r"(?<![\w.,])%s(?![\w]|[.,]\d)" % re.escape(value), paragraph):
        return "the paragraph after it no longer states %s:\n      %s" % (value, paragraph[:300])
    _, out = run(command, cwd, env)
    if out.strip() != value:
        return "the README states %s, but `%s` prints:\n      %s" % (value, command, out.strip()[:300])
    return None


def scratch(repo, build):
    d = tempfile.mkdtemp(prefix="check-readme.")
    for name in ("scenarios", "tests", "docs", "scripts", "deploy", "Makefile", "README.md"):
        os.symlink(os.path.join(repo, name), os.path.join(d, name))
    os.symlink(os.path.abspath(build), os.path.join(d, "bin"))
    return d


def check(readme, build, repo, quiet=False):
    """Runs the README's examples; returns the number of problems."""
    say = (lambda *a: None) if quiet else print
    text = open(readme, encoding="utf-8").read()
    cwd = scratch(repo, build)
    env = dict(os.environ, CLUSTERSIM_PROGRESS="off")
    failures = ran = skipped = 0
    for line, lang, directive, body in blocks(text):
        if lang not in ("sh", "console"):
            continue
        where = "%s:%d" % (readme, line)
        if directive and directive[0] == "skip":
            if not directive[1]:
                say("FAIL %s: a skipped example must say why" % where)
                failures += 1
            else:
                skipped += 1
                if not quiet:
                    print("skip %s: %s" % (where, directive[1]))
            continue
        ran += 1
        if lang == "sh":
            want = int(directive[1]) if directive and directive[0] == "exit" else 0
            status, out = run("set -e\n" + "\n".join(body), cwd, env)
            if status != want:
                say("FAIL %s: the block exited %s (expected %d):\n%s" % (where, status, want, out[-3000:]))
                failures += 1
            elif not quiet:
                print("ok   %s: a script of %d lines" % (where, len(body)))
        else:
            problems = check_session(body, cwd, env)
            for p in problems:
                say("FAIL %s: %s" % (where, p))
            failures += bool(problems)
            if not problems and not quiet:
                print("ok   %s: %d commands, their output as shown" % (where, sum(b.startswith("$ ") for b in body)))
    stated = 0
    for line, value, command, paragraph in figures(text):
        stated += 1
        problem = check_figure(value, command, paragraph, cwd, env)
        if problem:
            say("FAIL %s:%d: figure %s: %s" % (readme, line, value, problem))
            failures += 1
        elif not quiet:
            print("ok   %s:%d: figure %s, as `%s` prints it" % (readme, line, value, command))
    subprocess.run(["rm", "-rf", cwd])
    if not quiet:
        print("check-readme: %d examples run, %d skipped (with a reason), %d figures checked, %d failed" % (
            ran, skipped, stated, failures))
    return failures


def self_test(build, repo):
    run_line = "$ printf 'PASS x seed=1 events=7 wall=3ms hash=8e97dcab5bbb8a54\\n'\n"
    figure = "<!-- check-readme: figure 20 = echo %s -->\nOver the %s shipped files, 1,000 seeds.\n"
    cases = {
        "a wrong expected output": "```console\n$ echo hello\nbye\n```\n",
        "a drifted hash": "```console\n" + run_line + "PASS x seed=1 events=7 wall=1ms hash=8e97dcab5bbb8a55\n```\n",
        "a failing sh block": "```sh\ntrue\nfalse\n```\n",
        "a skip without a reason": "<!-- check-readme: skip -->\n```sh\ntrue\n```\n",
        "a figure its command no longer prints": figure % (21, 20),
        "a figure its paragraph no longer states": figure % (20, 21),
        "a figure stated only as part of a larger number": figure % (20, "20,5"),
    }
    good = ("```console\n$ printf 'a 1\\nb   2 wall=3ms\\n'\nb 2 wall=9ms ...\n" + run_line +
            "PASS x seed=1 events=7 wall=1ms hash=8e97dcab5bbb8a54\n" + run_line + "PASS x seed=1 ... hash=...\n```\n"
            "<!-- check-readme: exit 3 -->\n```sh\nexit 3\n```\n" + figure % (20, 20))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "R.md")
        open(path, "w").write(good)
        if check(path, build, repo, quiet=True) != 0:
            print("FAIL check-readme --self-test: a correct README was refused")
            return 1
        for what, text in cases.items():
            open(path, "w").write(text)
            if check(path, build, repo, quiet=True) == 0:
                print("FAIL check-readme --self-test: %s was not caught" % what)
                return 1
    print("ok   check-readme --self-test: a wrong output, a drifted hash, a failing block, a skip without a reason "
          "and a drifted figure (in its command or in the prose) are caught")
    return 0


def main():
    args = sys.argv[1:]
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args and args[0] == "--self-test":
        sys.exit(self_test(args[1], repo))
    if not args:
        sys.exit("usage: check-readme.py [--self-test] BUILD [README.md]")
    readme = args[1] if len(args) > 1 else os.path.join(repo, "README.md")
    sys.exit(1 if check(readme, args[0], repo) else 0)


if __name__ == "__main__":
    main()
