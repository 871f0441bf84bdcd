#!/usr/bin/env python3
"""scripts/check-layers.py: the include graph follows the layers.

Every quoted #include of a C file or header in the tree is resolved to the
folder it lands in, and each folder may include only from the folders below
it (core/README.md draws them):

    core  <-  config  <-  sim  <-  config/scenario, shims/sim  <-  drivers
          <-  reports  <-  cli;      core <- config, shims/posix <- daemon

A violation prints `file:line: FOLDER includes TARGET` and fails.  With
--self-test, a probe include from sim/ into shims/ and from daemon/ into
sim/ must each be caught.
"""
import os
import re
import sys

ALLOWED = {
    "core": {"core"},
    "config": {"core", "config"},
    "sim": {"core", "config", "sim"},
    "config/scenario": {"core", "config", "sim", "config/scenario"},
    "shims/sim": {"core", "sim", "shims/sim"},
    "shims/posix": {"core", "shims/posix"},
    "drivers": {"core", "config", "sim", "config/scenario", "shims/sim", "drivers"},
    "reports": {"core", "config", "sim", "config/scenario", "shims/sim", "drivers", "reports"},
    # real/: the real world (namespaces, dnsmasq, clusterd processes); it
    # reads scenarios and fills a run result, and runs no simulator.
    "real": {"core", "config", "sim", "drivers", "real"},
    "cli": {"core", "config", "sim", "config/scenario", "shims/sim", "drivers", "reports", "real", "cli"},
    "daemon": {"core", "config", "shims/posix", "daemon"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(path):
    """The layer a repository-relative path belongs to (longest prefix), or None."""
    best = None
    for layer in ALLOWED:
        if path == layer or path.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    if best == "core" or (best and best.startswith("core/")):
        return "core"
    return best


def violations(root, files):
    found = []
    for rel in files:
        src_layer = layer_of(rel)
        if src_layer is None:
            continue
        if rel.startswith("core/tracker/"):
            src_layer = "core"
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(1)))
                tgt_layer = layer_of(target)
                if target.startswith("core/"):
                    tgt_layer = "core"
                if tgt_layer is None or tgt_layer in ALLOWED[src_layer]:
                    continue
                found.append(f"{rel}:{lineno}: {src_layer} includes {target}")
    return found


def tree_files(root):
    out = []
    for layer in ALLOWED:
        top = os.path.join(root, layer)
        for dirpath, _dirs, names in os.walk(top):
            for name in names:
                if name.endswith((".c", ".h")):
                    out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(set(out))


def self_test(root):
    import tempfile
    probes = {"sim/probe_up.c": '#include "../shims/sim/sim_env.h"\n',
              "daemon/probe_sim.c": '#include "../sim/world.h"\n',
              "core/tracker/probe_out.c": '#include "../../sim/world.h"\n'}
    with tempfile.TemporaryDirectory() as tmp:
        for rel, text in probes.items():
            os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(tmp, rel), "w") as f:
                f.write(text)
        caught = violations(tmp, sorted(probes))
    if len(caught) != len(probes):
        print("check-layers: self-test FAILED: caught only", caught, file=sys.stderr)
        return 1
    print(f"check-layers: self-test: each of {len(probes)} probe includes against the layers is caught")
    return 0


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    if "--self-test" in sys.argv[1:] and self_test(root):
        return 1
    files = tree_files(root)
    bad = violations(root, files)
    for b in bad:
        print(b, file=sys.stderr)
    if bad:
        print(f"check-layers: {len(bad)} includes cross the layers", file=sys.stderr)
        return 1
    print(f"check-layers: the includes of {len(files)} files follow the layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
