#!/usr/bin/env python3
"""scripts/check-deploy.py: the deployment files hold together (run by scripts/check-deploy.sh).

    check-deploy.py BUILD                 check deploy/, .dockerignore, docs/deploy.md
    check-deploy.py --self-test BUILD     each mutation of a copy must be caught
    check-deploy.py --render BUILD DIR PEER_PORT HTTP_PORT   the clusterd container, as shell arrays

BUILD holds clusterd, clusterctl and clustersim (and make's .d files).  One
`ok NAME` line per check, then a count; any failure exits 1:
  manifests    documents parse, apiVersion of the kind, a name; no Secret in deploy/k8s/, none with a value
  workloads    every pod: selector = template labels, image, requests <= limits, the security context
               (non-root 65534, read-only root, no escalation, no capabilities, RuntimeDefault seccomp),
               declared volumes, $(VAR) defined before use, probes on named ports
  clusterd     every --flag is in `clusterd --help` and the daemon accepts the args (`... --version`);
               ports = container ports = probes = prometheus.io annotations; /livez, /healthz;
               --dns-service is the headless Service in the downward-API namespace; the secret file
               and the control socket's directory are mounted; --grace < terminationGracePeriodSeconds
  services     Service, PodDisruptionBudget and ServiceMonitor select the pods; their ports exist
  fuzz job     Indexed, SHARDS = completions >= parallelism, env read by deploy/fuzz/run-shard.sh
               (which the Dockerfile installs), the merge job agrees, the claim exists
  dockerfile   stages (clusterd last), numeric non-root USER, make targets = COPY paths, and every
               library the binaries need (readelf) is in a package their stage installs
  dockerignore what make compiles for the three binaries is sent; build/, bin/, .git, objects are not
  docs         docs/deploy.md creates the mounted secret, builds the images the manifests name, and
               names only files and resources that exist
  config       deploy/clusterd.yaml loads (`clusterd --config`)
"""
import functools
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

API = {"Deployment": "apps/v1", "Service": "v1", "PodDisruptionBudget": "policy/v1", "Job": "batch/v1",
       "PersistentVolumeClaim": "v1", "Pod": "v1", "Secret": "v1", "ServiceMonitor": "monitoring.coreos.com/v1"}
NOBODY = 65534
VAR = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


class Tree:
    """The files under check: deploy/, docs/deploy.md and .dockerignore of ROOT."""

    def __init__(self, root, repo, build):
        self.root, self.repo, self.build = root, repo, build
        self.docs = []  # (relative path, document)
        self.load_errors = []
        for path in sorted(glob.glob(os.path.join(root, "deploy", "**", "*.yaml"), recursive=True)):
            rel = os.path.relpath(path, root)
            try:
                with open(path) as f:
                    self.docs += [(rel, d) for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                self.load_errors.append(f"{rel}: {e}")

    def manifests(self, kind=None):
        return [(rel, d) for rel, d in self.docs
                if isinstance(d, dict) and "kind" in d and (kind is None or d["kind"] == kind)]

    def read(self, rel):
        with open(os.path.join(self.root, rel)) as f:
            return f.read()


# ---------------------------------------------------------------- helpers

def get(d, *path, default=None):
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return default
        d = d[key]
    return d


def quantity(q, what):
    """A CPU or memory quantity in base units (cores, bytes)."""
    s = str(q)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, mult in sorted(units.items(), key=lambda u: -len(u[0])):
        if s.endswith(suffix):
            return float(s[: -len(suffix)]) * mult
    try:
        return float(s)
    except ValueError:
        raise ValueError(f"{what}: '{s}' is not a quantity")


def pod_specs(tree):
    """(where, pod spec, template labels or None, selector labels or None) of every workload."""
    out = []
    for rel, d in tree.manifests():
        where = f"{rel}: {d['kind']} {get(d, 'metadata', 'name')}"
        if d["kind"] in ("Deployment", "Job"):
            out.append((where, get(d, "spec", "template", "spec", default={}),
                        get(d, "spec", "template", "metadata", "labels", default={}),
                        get(d, "spec", "selector", "matchLabels")))
        elif d["kind"] == "Pod":
            out.append((where, get(d, "spec", default={}), get(d, "metadata", "labels", default={}), None))
    return out


def daemon_deployment(tree):
    """The Deployment running clusterd and its container (None, None when absent)."""
    for _, d in tree.manifests("Deployment"):
        for c in get(d, "spec", "template", "spec", "containers", default=[]):
            if c.get("name") == "clusterd":
                return d, c
    return None, None


def help_flags(clusterd):
    """{flag: takes a value} from `clusterd --help`."""
    text = subprocess.run([clusterd, "--help"], capture_output=True, text=True, check=True).stdout
    flags = {}
    for line in text.splitlines():
        m = re.match(r"\s+(--[a-z0-9-]+)(?:\s(\S+))?", line)
        if m:
            meta = m.group(2) or ""
            flags[m.group(1)] = bool(re.fullmatch(r"[A-Z][A-Z0-9_@.:,|]*(\.\.\.)?", meta) or "|" in meta)
    return flags


def parse_args(args, flags):
    """{flag: value or True} of a container's args, and the errors."""
    out, errors, i = {}, [], 0
    while i < len(args):
        a = str(args[i])
        name, _, inline = a.partition("=")
        if not name.startswith("--"):
            errors.append(f"'{a}' is not a flag (clusterd takes options only)")
        elif name not in flags:
            errors.append(f"{name} is not a clusterd flag (clusterd --help)")
        elif flags[name] and not inline:
            if i + 1 >= len(args):
                errors.append(f"{name} has no value")
            else:
                out[name] = str(args[i + 1])
                i += 1
        else:
            out[name] = inline or True
        i += 1
    return out, errors


def env_of(container):
    return {e["name"]: e for e in container.get("env", []) if isinstance(e, dict) and "name" in e}


def expand(value, env_values):
    return VAR.sub(lambda m: env_values.get(m.group(1), m.group(0)), str(value))


def container_port(container, port):
    """The number of a container port given by name or number, or None."""
    for p in container.get("ports", []):
        if p.get("name") == port or p.get("containerPort") == port:
            return p.get("containerPort")
    return None


def selects(selector, labels):
    return isinstance(selector, dict) and bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# ---------------------------------------------------------------- checks

def check_manifests(tree):
    errors = list(tree.load_errors)
    for rel, d in tree.docs:
        if rel == os.path.join("deploy", "clusterd.yaml"):
            continue
        if not isinstance(d, dict) or "kind" not in d:
            errors.append(f"{rel}: a document without a kind")
            continue
        want = API.get(d["kind"])
        if want is None:
            errors.append(f"{rel}: kind {d['kind']} is not one this check knows")
        elif d.get("apiVersion") != want:
            errors.append(f"{rel}: {d['kind']} needs apiVersion {want}, not {d.get('apiVersion')}")
        if not get(d, "metadata", "name"):
            errors.append(f"{rel}: {d['kind']} without metadata.name")
        if d["kind"] == "Secret":
            if rel.startswith(os.path.join("deploy", "k8s") + os.sep):
                errors.append(f"{rel}: a Secret in deploy/k8s/ (kubectl apply -f deploy/k8s/ would install it)")
            if d.get("data") or d.get("stringData"):
                errors.append(f"{rel}: Secret {get(d, 'metadata', 'name')} carries a value")
    return errors


def check_security(where, spec, container):
    pod_sc, sc = spec.get("securityContext") or {}, container.get("securityContext")
    if not isinstance(sc, dict):
        return [f"{where}: container {container.get('name')} has no securityContext"]
    eff = lambda key: sc.get(key, pod_sc.get(key))  # noqa: E731 (the container's, else the pod's)
    errors = []
    if eff("runAsNonRoot") is not True:
        errors.append("runAsNonRoot is not true")
    for key in ("runAsUser", "runAsGroup"):
        if eff(key) != NOBODY:
            errors.append(f"{key} is {eff(key)}, not {NOBODY}")
    if sc.get("readOnlyRootFilesystem") is not True:
        errors.append("readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        errors.append("allowPrivilegeEscalation is not false")
    if "ALL" not in (get(sc, "capabilities", "drop") or []):
        errors.append("capabilities.drop lacks ALL")
    if get(eff("seccompProfile") or {}, "type") != "RuntimeDefault":
        errors.append("seccompProfile is not RuntimeDefault")
    return [f"{where}: container {container.get('name')}: {e}" for e in errors]


def check_resources(where, container):
    res, errors = container.get("resources") or {}, []
    for kind in ("cpu", "memory"):
        req, lim = get(res, "requests", kind), get(res, "limits", kind)
        if req is None or lim is None:
            errors.append(f"{where}: container {container.get('name')} lacks a {kind} request or limit")
            continue
        try:
            if quantity(req, kind) > quantity(lim, kind):
                errors.append(f"{where}: {kind} request {req} exceeds its limit {lim}")
        except ValueError as e:
            errors.append(f"{where}: {e}")
    return errors


def check_env_refs(where, container):
    errors, defined = [], set()
    for e in container.get("env", []):
        for ref in VAR.findall(str(e.get("value", ""))):
            if ref not in defined:
                errors.append(f"{where}: env {e['name']} uses $({ref}) before it is defined")
        defined.add(e.get("name"))
    for a in list(container.get("args", [])) + list(container.get("command", [])):
        for ref in VAR.findall(str(a)):
            if ref not in defined:
                errors.append(f"{where}: argument '{a}' uses $({ref}), which the env does not define")
    return errors


def check_workloads(tree):
    errors = []
    for where, spec, labels, selector in pod_specs(tree):
        if selector is not None and selector != {k: labels.get(k) for k in selector} or selector == {}:
            errors.append(f"{where}: selector {selector} does not match the template's labels {labels}")
        volumes = {v.get("name") for v in spec.get("volumes", [])}
        containers = spec.get("containers") or []
        if not containers:
            errors.append(f"{where}: no containers")
        for c in containers:
            if not c.get("image"):
                errors.append(f"{where}: container {c.get('name')} has no image")
            errors += check_resources(where, c) + check_security(where, spec, c) + check_env_refs(where, c)
            for m in c.get("volumeMounts", []):
                if m.get("name") not in volumes:
                    errors.append(f"{where}: mount {m.get('name')} names no volume")
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                port = get(c, probe, "httpGet", "port")
                if probe in c and (not isinstance(port, str) or container_port(c, port) is None):
                    errors.append(f"{where}: {probe} port {port!r} is not a named port of the container")
    return errors


def check_clusterd(tree):
    d, c = daemon_deployment(tree)
    if d is None:
        return ["no Deployment has a container named clusterd"]
    errors, clusterd = [], os.path.join(tree.build, "clusterd")
    flags, bad = parse_args(c.get("args", []), help_flags(clusterd))
    errors += bad
    spec, env = get(d, "spec", "template", "spec", default={}), env_of(c)
    peer = int(flags.get("--port", 4369))
    http = int(flags["--http-port"]) if "--http-port" in flags else None
    if container_port(c, "peers") != peer:
        errors.append(f"container port 'peers' is {container_port(c, 'peers')}, the daemon's peer port {peer}")
    if http is None or container_port(c, "http") != http:
        errors.append(f"container port 'http' is {container_port(c, 'http')}, --http-port {http}")
    for probe, path in (("livenessProbe", "/livez"), ("readinessProbe", "/healthz")):
        got = get(c, probe, "httpGet", "path")
        if got != path:
            errors.append(f"{probe} is on {got}, not {path}")
        if container_port(c, get(c, probe, "httpGet", "port")) != http:
            errors.append(f"{probe} is not on the --http-port {http}")
    ann = get(d, "spec", "template", "metadata", "annotations", default={})
    want = {"prometheus.io/scrape": "true", "prometheus.io/port": str(http), "prometheus.io/path": "/metrics"}
    errors += [f"annotation {k} is {ann.get(k)!r}, not {v!r}" for k, v in want.items() if ann.get(k) != v]
    errors += check_dns(tree, flags, env)
    errors += check_mounts(tree, d, c, flags, env)
    grace = flags.get("--grace", "30s")
    m = re.fullmatch(r"(\d+)s", str(grace))
    period = spec.get("terminationGracePeriodSeconds", 30)
    if not m or int(m.group(1)) >= period:
        errors.append(f"--grace {grace} is not below terminationGracePeriodSeconds {period}")
    if not errors:
        errors += accepts_args(tree, c)
    return errors


def check_dns(tree, flags, env):
    service = flags.get("--dns-service", "")
    m = re.fullmatch(r"([a-z0-9-]+)\.\$\(([A-Z_]+)\)\.svc\.cluster\.local", str(service))
    if not m:
        return [f"--dns-service {service!r} is not SERVICE.$(NAMESPACE_VAR).svc.cluster.local"]
    errors = []
    if get(env.get(m.group(2), {}), "valueFrom", "fieldRef", "fieldPath") != "metadata.namespace":
        errors.append(f"$({m.group(2)}) is not the downward API's metadata.namespace")
    svc = [s for _, s in tree.manifests("Service") if get(s, "metadata", "name") == m.group(1)]
    if not svc:
        errors.append(f"--dns-service names Service {m.group(1)}, which deploy/ does not define")
    elif get(svc[0], "spec", "clusterIP") != "None" or get(svc[0], "spec", "publishNotReadyAddresses") is not True:
        errors.append(f"Service {m.group(1)} is not headless with publishNotReadyAddresses")
    if get(env.get("CLUSTERD_NAME", {}), "value") != "app@$(POD_IP)" or \
            get(env.get("POD_IP", {}), "valueFrom", "fieldRef", "fieldPath") != "status.podIP":
        errors.append("CLUSTERD_NAME is not app@$(POD_IP) from the downward API's status.podIP")
    return errors


def mount_of(container, spec, path):
    """(volume, mount) whose mountPath holds PATH, or (None, None)."""
    for m in container.get("volumeMounts", []):
        if path == m.get("mountPath") or str(path).startswith(m.get("mountPath", "") + "/"):
            for v in spec.get("volumes", []):
                if v.get("name") == m.get("name"):
                    return v, m
    return None, None


def check_mounts(tree, d, c, flags, env):
    errors, spec = [], get(d, "spec", "template", "spec", default={})
    runtime = get(env.get("XDG_RUNTIME_DIR", {}), "value")
    control = flags.get("--control")
    where = control if control else runtime
    vol, mount = mount_of(c, spec, where) if where else (None, None)
    if not vol or "emptyDir" not in vol or (control is None and mount.get("mountPath") != runtime):
        errors.append(f"the control socket's directory ({where}, from --control or XDG_RUNTIME_DIR) "
                      "is not an emptyDir mount")
    secret_file = flags.get("--secret-file")
    if secret_file:
        vol, mount = mount_of(c, spec, secret_file)
        key = os.path.relpath(secret_file, mount["mountPath"]) if mount else None
        items = {i.get("path"): i.get("key") for i in get(vol or {}, "secret", "items", default=[])}
        if not vol or "secret" not in vol or (items and key not in items):
            errors.append(f"--secret-file {secret_file} is not a file of a mounted Secret")
    elif "CLUSTERD_SECRET" not in env:
        errors.append("neither --secret-file nor CLUSTERD_SECRET gives the secret")
    return errors


def accepts_args(tree, c):
    """The daemon parses the args, values included: `clusterd ARGS --version` exits 0."""
    with tempfile.TemporaryDirectory() as tmp:
        env_values = {"POD_IP": "127.0.0.1", "POD_NAMESPACE": "check"}
        args = [expand(a, env_values) for a in c.get("args", [])]
        for i, a in enumerate(args):
            if i and args[i - 1] == "--secret-file":
                args[i] = os.path.join(tmp, "secret")
                with open(args[i], "w") as f:
                    f.write("s3cret\n")
        r = subprocess.run([os.path.join(tree.build, "clusterd"), "--name", "app@127.0.0.1"] + args + ["--version"],
                           capture_output=True, text=True)
        return [] if r.returncode == 0 else [f"clusterd refuses the args: {r.stderr.strip()}"]


def check_services(tree):
    d, c = daemon_deployment(tree)
    if d is None:
        return ["no clusterd Deployment"]
    labels, errors = get(d, "spec", "template", "metadata", "labels", default={}), []
    replicas = get(d, "spec", "replicas", default=1)
    if replicas < 3:
        errors.append(f"the Deployment runs {replicas} replicas, not 3 or more")
    services = tree.manifests("Service")
    for rel, s in services:
        name = get(s, "metadata", "name")
        if not selects(get(s, "spec", "selector"), labels):
            errors.append(f"{rel}: Service {name} selector {get(s, 'spec', 'selector')} misses the pods {labels}")
        for p in get(s, "spec", "ports", default=[]):
            target = p.get("targetPort", p.get("port"))
            if container_port(c, target) is None:
                errors.append(f"{rel}: Service {name} port {p.get('name')} targets {target}, no container port")
            elif container_port(c, target) != p.get("port"):
                errors.append(f"{rel}: Service {name} port {p.get('name')} is {p.get('port')}, "
                              f"the container's {container_port(c, target)}")
    pdbs = tree.manifests("PodDisruptionBudget")
    if not pdbs:
        errors.append("no PodDisruptionBudget")
    for rel, p in pdbs:
        spec = p.get("spec", {})
        if not selects(get(spec, "selector", "matchLabels"), labels):
            errors.append(f"{rel}: the budget's selector misses the pods {labels}")
        if ("minAvailable" in spec) == ("maxUnavailable" in spec):
            errors.append(f"{rel}: give one of minAvailable and maxUnavailable")
        elif not (0 < int(spec.get("maxUnavailable", 1)) < replicas and 0 < int(spec.get("minAvailable", 1)) < replicas):
            errors.append(f"{rel}: the budget allows no eviction or no protection with {replicas} replicas")
    for rel, m in tree.manifests("ServiceMonitor"):
        sel = get(m, "spec", "selector", "matchLabels")
        hit = [s for _, s in services if selects(sel, get(s, "metadata", "labels", default={}))]
        if not hit:
            errors.append(f"{rel}: the ServiceMonitor selects no Service")
        for ep in get(m, "spec", "endpoints", default=[]):
            if hit and ep.get("port") not in {p.get("name") for p in get(hit[0], "spec", "ports", default=[])}:
                errors.append(f"{rel}: endpoint port {ep.get('port')} is not a port of the Service")
            if ep.get("path") != "/metrics":
                errors.append(f"{rel}: endpoint path {ep.get('path')} is not /metrics")
    if rel_in(tree, "deploy/k8s", "ServiceMonitor"):
        errors.append("a ServiceMonitor in deploy/k8s/ (it needs the operator's CRD)")
    return errors


def rel_in(tree, folder, kind):
    return [rel for rel, _ in tree.manifests(kind) if rel.startswith(folder + "/")]


def check_fuzz_job(tree):
    script = tree.read("deploy/fuzz/run-shard.sh")
    reads = set(re.findall(r"\$\{([A-Z_]+)[:}]", script))
    jobs = {get(j, "metadata", "name"): (rel, j) for rel, j in tree.manifests("Job")}
    errors, indexed = [], [(rel, j) for rel, j in jobs.values() if get(j, "spec", "completionMode") == "Indexed"]
    if not indexed:
        return ["no Indexed Job"]
    claims = {get(p, "metadata", "name") for _, p in tree.manifests("PersistentVolumeClaim")}
    settings = {}
    for rel, j in jobs.values():
        spec, pod = j.get("spec", {}), get(j, "spec", "template", "spec", default={})
        if rel.startswith("deploy/k8s/"):
            errors.append(f"{rel}: a Job in deploy/k8s/ (kubectl apply -f deploy/k8s/ would start it)")
        if pod.get("restartPolicy") not in ("Never", "OnFailure"):
            errors.append(f"{rel}: restartPolicy {pod.get('restartPolicy')}")
        for v in pod.get("volumes", []):
            claim = get(v, "persistentVolumeClaim", "claimName")
            if claim and claim not in claims:
                errors.append(f"{rel}: claim {claim} is not defined")
        for c in pod.get("containers", []):
            env = {k: get(e, "value") for k, e in env_of(c).items()}
            unknown = set(env) - reads
            if unknown:
                errors.append(f"{rel}: env {sorted(unknown)} is not read by run-shard.sh")
            if c.get("command", [None])[0] != "/usr/local/bin/run-shard.sh":
                errors.append(f"{rel}: the command is not /usr/local/bin/run-shard.sh")
            settings[get(j, "metadata", "name")] = env
        if get(j, "spec", "completionMode") == "Indexed":
            n, par = spec.get("completions"), spec.get("parallelism", 1)
            env = settings.get(get(j, "metadata", "name"), {})
            if str(n) != str(env.get("SHARDS")):
                errors.append(f"{rel}: SHARDS {env.get('SHARDS')} is not completions {n}")
            if not isinstance(par, int) or not 0 < par <= (n or 0):
                errors.append(f"{rel}: parallelism {par} is not in 1..completions")
            if not re.fullmatch(r"\d+\.\.\d+", str(env.get("SEEDS", ""))):
                errors.append(f"{rel}: SEEDS {env.get('SEEDS')!r} is not A..B")
    installed = {m.group(2): m.group(1) for m in re.finditer(r"^COPY (?!--from)(\S+) (\S+)$",
                                                             tree.read("deploy/Dockerfile"), re.M)}
    if installed.get("/usr/local/bin/run-shard.sh") != "deploy/fuzz/run-shard.sh":
        errors.append("the Dockerfile does not install deploy/fuzz/run-shard.sh as /usr/local/bin/run-shard.sh")
    campaign = settings.get(get(indexed[0][1], "metadata", "name"), {})
    for name, env in settings.items():
        for key in ("SHARDS", "SEEDS", "RESULTS"):
            if key in env and env[key] != campaign.get(key):
                errors.append(f"Job {name}: {key} {env[key]} is not the campaign's {campaign.get(key)}")
    return errors


def dockerfile_stages(text):
    """[{name, lines}] of deploy/Dockerfile, in order."""
    stages = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            stages.append({"base": m.group(1), "name": m.group(2), "lines": []})
        elif stages and line.strip() and not line.startswith("#"):
            stages[-1]["lines"].append(line.strip())
    return stages


@functools.lru_cache(maxsize=None)
def library_packages():
    """{library file name: Debian package} from dpkg's file lists (this machine is the images' Debian 12)."""
    owner = {}
    for lst in glob.glob("/var/lib/dpkg/info/*.list"):
        package = os.path.basename(lst)[:-5].split(":")[0]
        with open(lst, errors="replace") as f:
            for line in f:
                if "/lib" in line and ".so" in line:
                    owner.setdefault(os.path.basename(line.strip()), package)
    return owner


@functools.lru_cache(maxsize=None)
def needed_packages(binary):
    """The packages holding the libraries BINARY needs (readelf's NEEDED), or None without dpkg."""
    if not os.path.isdir("/var/lib/dpkg/info") or not shutil.which("readelf"):
        return None
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    owner = library_packages()
    return frozenset(owner.get(lib, "?" + lib) for lib in re.findall(r"\(NEEDED\).*\[(.+)\]", dyn))


def check_dockerfile(tree):
    stages = dockerfile_stages(tree.read("deploy/Dockerfile"))
    names = [s["name"] for s in stages]
    errors, made = [], {}
    if not stages or names[-1] != "clusterd" or "clustersim" not in names:
        errors.append(f"stages {names}: want a clustersim stage and clusterd last (the default target)")
    for s in stages:
        made[s["name"]] = set(made.get(s["base"], set()))
        for line in s["lines"]:
            m = re.match(r"RUN make .*BUILD=(\S+)\s+(.*)", line)
            if m:
                for target in m.group(2).split():
                    if not target.startswith(m.group(1) + "/"):
                        errors.append(f"make target {target} is outside BUILD={m.group(1)}")
                    made[s["name"]].add("/src/" + target)
    for s in stages:
        if s["name"] not in ("clusterd", "clustersim"):
            continue
        user = [line.split()[1] for line in s["lines"] if line.startswith("USER")]
        if not user or not re.fullmatch(r"[1-9]\d*:[1-9]\d*", user[-1]):
            errors.append(f"stage {s['name']}: USER {user} is not a numeric non-root uid:gid")
        installed = set(" ".join(line for line in s["lines"] if "apt-get install" in line).split()) | {"libc6"}
        for line in s["lines"]:
            m = re.match(r"COPY --from=(\S+)\s+(.*)\s+\S+$", line)
            for src in (m.group(2).split() if m else []):
                if src not in made.get(m.group(1), set()):
                    errors.append(f"stage {s['name']}: COPY {src} is not built by stage {m.group(1)}")
                pkgs = needed_packages(os.path.join(tree.build, os.path.basename(src)))
                if pkgs is not None and pkgs - installed:
                    errors.append(f"stage {s['name']}: {os.path.basename(src)} needs {sorted(pkgs - installed)}")
    return errors


def ignore_rules(text):
    """[(negated, regex)] of a .dockerignore, as Docker reads it."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pat = os.path.normpath(line.lstrip("!").strip("/"))
        rx = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pat):
            rx += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part))
        rules.append((neg, re.compile(rx)))
    return rules


def ignored(rules, path):
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    out = False
    for neg, rx in rules:
        if any(rx.fullmatch(p) for p in prefixes):
            out = not neg
    return out


@functools.lru_cache(maxsize=None)
def build_inputs(repo, build):
    """Every repository file make reads to build the three binaries (sources from make -n, headers from .d)."""
    out = subprocess.run(["make", "-n", "-B", "BUILD=build/check-deploy-dry", "LTO=", "build/check-deploy-dry/clusterd",
                          "build/check-deploy-dry/clusterctl", "build/check-deploy-dry/clustersim"],
                         cwd=repo, capture_output=True, text=True, check=True).stdout
    files = {"Makefile"}
    for src in re.findall(r"-c (\S+\.c)\b", out):
        files.add(src)
        dep = os.path.join(build, src[:-2] + ".d")
        if os.path.exists(dep):
            with open(dep) as f:
                for token in f.read().replace("\\\n", " ").split():
                    token = token.rstrip(":")
                    if not token.endswith(".o") and not os.path.isabs(token):
                        files.add(os.path.normpath(token))
    return frozenset(files)


def check_dockerignore(tree):
    rules = ignore_rules(tree.read(".dockerignore"))
    errors = []
    for path in ("build/plain/clusterd", "bin/clustersim", ".git/HEAD", "reports-out/index.html", "core/env.o"):
        if not ignored(rules, path):
            errors.append(f"{path} would be sent to the build")
    copies = re.findall(r"^COPY (?!--from)(\S+)", tree.read("deploy/Dockerfile"), re.M)
    needed = build_inputs(tree.repo, tree.build) | {c for c in copies if c != "."}
    errors += [f"{path} (read by the image's build) is left out" for path in sorted(needed) if ignored(rules, path)]
    return errors


def check_docs(tree):
    text, errors = tree.read("docs/deploy.md"), []
    d, c = daemon_deployment(tree)
    spec = get(d or {}, "spec", "template", "spec", default={})
    secrets = {get(v, "secret", "secretName"): [i.get("key") for i in get(v, "secret", "items", default=[])]
               for v in spec.get("volumes", []) if "secret" in v}
    created = re.findall(r"kubectl create secret generic (\S+)\s*(?:\\\s*)?--from-literal=(\w+)=", text)
    for name, keys in secrets.items():
        if not any(n == name and (not keys or k in keys) for n, k in created):
            errors.append(f"docs/deploy.md never creates secret {name} with key {keys}")
    builds = re.findall(r"docker build (.*)", text)
    images = {c.get("image") for _, spec, _, _ in pod_specs(tree) for c in spec.get("containers", [])}
    last = dockerfile_stages(tree.read("deploy/Dockerfile"))[-1]["name"]
    for image in images:
        hit = [b for b in builds if re.search(r"-t " + re.escape(image) + r"(\s|$)", b)]
        target = (re.findall(r"--target (\S+)", hit[0]) or [last])[0] if hit else None
        if not hit or target != image.split(":")[0].rsplit("/", 1)[-1]:
            errors.append(f"docs/deploy.md has no docker build of {image} (stage {image.split(':')[0]})")
    kinds = {"deploy": "Deployment", "deployment": "Deployment", "job": "Job", "pod": "Pod", "svc": "Service",
             "service": "Service", "pdb": "PodDisruptionBudget"}
    names = {(m["kind"], get(m, "metadata", "name")) for _, m in tree.manifests()}
    for ref in sorted(set(re.findall(r"\b((?:deploy|scripts|docs)/[\w./-]*[\w/])", text))):
        if not os.path.exists(os.path.join(tree.root, ref)) and not os.path.exists(os.path.join(tree.repo, ref)) \
                and ("Deployment", ref.split("/", 1)[1]) not in names:
            errors.append(f"docs/deploy.md names {ref}, which does not exist")
    for kind, name in set(re.findall(r"\b(job|pod|svc|service|pdb|deployment)/([a-z0-9-]+)", text)):
        if (kinds[kind], name) not in names:
            errors.append(f"docs/deploy.md names {kind}/{name}, which deploy/ does not define")
    return errors


def check_config(tree):
    r = subprocess.run([os.path.join(tree.build, "clusterd"), "--config", os.path.join(tree.root, "deploy/clusterd.yaml"),
                        "--name", "app@127.0.0.1", "--version"], capture_output=True, text=True)
    return [] if r.returncode == 0 else [f"clusterd --config deploy/clusterd.yaml: {r.stderr.strip()}"]


CHECKS = [("manifests", check_manifests), ("workloads", check_workloads), ("clusterd", check_clusterd),
          ("services", check_services), ("fuzz job", check_fuzz_job), ("dockerfile", check_dockerfile),
          ("dockerignore", check_dockerignore), ("docs", check_docs), ("config", check_config)]


def run_checks(tree, quiet=False):
    """{check name: errors}; prints ok/FAIL lines unless quiet."""
    results = {}
    for name, fn in CHECKS:
        try:
            results[name] = fn(tree)
        except (OSError, KeyError, TypeError, ValueError, subprocess.CalledProcessError) as e:
            results[name] = [f"{type(e).__name__}: {e}"]
        if not quiet:
            print(f"ok   {name}" if not results[name] else "FAIL " + name + "\n  " + "\n  ".join(results[name]))
    return results


# ---------------------------------------------------------------- the pod, on this machine

def render(tree, tmp, peer_port, http_port):
    """Shell assignments for scripts/check-deploy.sh: the clusterd container as the kubelet would start it,
    its mounts as directories under TMP (the emptyDir 1777, the secret 0440 of group 65534, as fsGroup
    makes it), its ports moved to free ones."""
    d, c = daemon_deployment(tree)
    spec = get(d, "spec", "template", "spec")
    downward = {"status.podIP": "127.0.0.1", "metadata.namespace": "check"}
    mounts, runtime = {}, []
    for m in c.get("volumeMounts", []):
        vol = next(v for v in spec["volumes"] if v["name"] == m["name"])
        local = os.path.join(tmp, m["name"])
        os.makedirs(local)
        os.chmod(local, 0o1777 if "emptyDir" in vol else 0o755)
        runtime += [local] if "emptyDir" in vol else []
        for item in get(vol, "secret", "items", default=[]):
            path = os.path.join(local, item["path"])
            with open(path, "w") as f:
                f.write("check-deploy-secret\n")
            os.chmod(path, 0o440)
            if os.geteuid() == 0:
                os.chown(path, 0, NOBODY)
        mounts[m["mountPath"]] = local
    relocate = lambda v: next((local + v[len(mp):] for mp, local in mounts.items()  # noqa: E731
                               if v == mp or v.startswith(mp + "/")), v)
    values = {}
    for name, e in env_of(c).items():
        field = get(e, "valueFrom", "fieldRef", "fieldPath")
        values[name] = downward[field] if field else relocate(expand(e.get("value", ""), values))
    args = [relocate(expand(a, values)) for a in c.get("args", [])]
    for flag, port in (("--port", peer_port), ("--http-port", http_port)):
        args[args.index(flag) + 1] = str(port)
    q = lambda v: "'" + str(v).replace("'", "'\\''") + "'"  # noqa: E731
    print("env_vars=(" + " ".join(q(f"{k}={v}") for k, v in values.items()) + ")")
    print("args=(" + " ".join(q(a) for a in args) + ")")
    print("runtime_dirs=(" + " ".join(q(d) for d in runtime) + ")")
    print(f"grace_period={spec.get('terminationGracePeriodSeconds', 30)}")


# ---------------------------------------------------------------- self-test

def docs_of(root, rel):
    with open(os.path.join(root, rel)) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def edit(root, rel, fn):
    """Applies FN to the documents of ROOT/REL and writes them back."""
    docs = docs_of(root, rel)
    fn(docs)
    with open(os.path.join(root, rel), "w") as f:
        yaml.safe_dump_all(docs, f, sort_keys=False)


def daemon_container(docs):
    return next(c for c in docs[0]["spec"]["template"]["spec"]["containers"] if c["name"] == "clusterd")


def set_arg(flag, value):
    def fn(docs):
        args = daemon_container(docs)["args"]
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return fn


def replace_text(rel, old, new):
    def fn(root):
        text = open(os.path.join(root, rel)).read()
        assert old in text, f"self-test: '{old}' is not in {rel}"
        with open(os.path.join(root, rel), "w") as f:
            f.write(text.replace(old, new))
    return fn


DEP, SVC, JOB = "deploy/k8s/deployment.yaml", "deploy/k8s/service.yaml", "deploy/fuzz/fuzz-job.yaml"
MUTATIONS = [
    ("the Service selects other pods", "services",
     lambda r: edit(r, SVC, lambda d: d[0]["spec"].update(selector={"app": "clusterd-x"}))),
    ("the selector differs from the template's labels", "workloads",
     lambda r: edit(r, DEP, lambda d: d[0]["spec"]["selector"]["matchLabels"].update(app="other"))),
    ("an unknown flag", "clusterd", lambda r: edit(r, DEP, set_arg("--no-such-flag", "1"))),
    ("a bad flag value", "clusterd", lambda r: edit(r, DEP, set_arg("--dns-poll", "soon"))),
    ("no securityContext", "workloads", lambda r: edit(r, DEP, lambda d: daemon_container(d).pop("securityContext"))),
    ("root user", "workloads", lambda r: edit(r, DEP, lambda d: daemon_container(d)["securityContext"].update(runAsUser=0))),
    ("--http-port differs from the probes' port", "clusterd", lambda r: edit(r, DEP, set_arg("--http-port", "8081"))),
    ("the peer port differs from the container's", "clusterd", lambda r: edit(r, DEP, set_arg("--port", "4370"))),
    ("--grace as long as the termination grace", "clusterd", lambda r: edit(r, DEP, set_arg("--grace", "40s"))),
    ("a hard-coded namespace", "clusterd",
     lambda r: edit(r, DEP, set_arg("--dns-service", "clusterd-headless.default.svc.cluster.local"))),
    ("no memory limit", "workloads",
     lambda r: edit(r, DEP, lambda d: daemon_container(d)["resources"]["limits"].pop("memory"))),
    ("a placeholder Secret in deploy/k8s/", "manifests", replace_text(
        SVC, "---\n", "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: clusterd-secret\n"
        "stringData:\n  secret: change-me\n---\n")),
    ("the socket directory not mounted", "clusterd",
     lambda r: edit(r, DEP, lambda d: daemon_container(d)["volumeMounts"].pop(0))),
    ("SHARDS differs from completions", "fuzz job", replace_text(JOB, 'value: "4"', 'value: "5"')),
    ("a Job in deploy/k8s/", "fuzz job", lambda r: shutil.copy(os.path.join(r, JOB), os.path.join(r, "deploy/k8s"))),
    (".dockerignore sends build/", "dockerignore", replace_text(".dockerignore", "\n*\n", "\n")),
    (".dockerignore leaves out a source folder", "dockerignore", replace_text(".dockerignore", "!core\n", "")),
    ("a runtime library missing from the image", "dockerfile", replace_text("deploy/Dockerfile", " libc-ares2", "")),
    ("the docs create another secret", "docs", replace_text("docs/deploy.md", "generic clusterd-secret", "generic x")),
]


def self_test(repo, build):
    """Every mutation of a copy must fail its check; the copy itself must pass."""
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        for what in ("deploy", "docs/deploy.md", ".dockerignore"):
            src, dst = os.path.join(repo, what), os.path.join(tmp, what)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            (shutil.copytree if os.path.isdir(src) else shutil.copy)(src, dst)
        failed = {k: v for k, v in run_checks(Tree(tmp, repo, build), quiet=True).items() if v}
        if failed:
            print(f"FAIL self-test: the unmutated copy fails {failed}")
            return 1
        for what, check, mutate in MUTATIONS:
            case = os.path.join(tmp, "case")
            shutil.copytree(tmp, case, ignore=shutil.ignore_patterns("case"))
            mutate(case)
            errors = run_checks(Tree(case, repo, build), quiet=True)[check]
            shutil.rmtree(case)
            if not errors:
                print(f"FAIL self-test: {what}: not caught by the {check} check")
                return 1
            print(f"ok   self-test: {what}: caught ({errors[0][:90]})")
            count += 1
    print(f"check-deploy: {count} mutations caught")
    return 0


def main(argv):
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if len(argv) == 2 and argv[0] == "--self-test":
        return self_test(repo, os.path.abspath(argv[1]))
    if len(argv) == 5 and argv[0] == "--render":
        render(Tree(repo, repo, argv[1]), argv[2], int(argv[3]), int(argv[4]))
        return 0
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    results = run_checks(Tree(repo, repo, os.path.abspath(argv[0])))
    failed = [name for name, errors in results.items() if errors]
    print(f"check-deploy: {len(results) - len(failed)} of {len(results)} checks ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
