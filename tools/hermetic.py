#!/usr/bin/env python3
"""hermetic.py - nothing the tests or scripts use may live outside the checkout.

    hermetic.py static ROOT
        Scan the files git tracks under ROOT for paths that leave it: a ".."
        component (except `$(dirname "$0")/..` chains that stay inside the
        repository), the checkout's parent folder written out, absolute
        paths under home or work folders (/work, /home, /root, ...), the
        home folder (a tilde path, the HOME variable), and symlinks that
        point outside.
    hermetic.py trace BUILD_DIR [E2E_NAME...]
        Run every unit test, and the named end-to-end tests (default: cli
        docs layers), as ctest would run them (command, folder, environment
        from `ctest --show-only=json-v1`) under strace, and judge every file
        system call they and their children made (see `analyze`).
    hermetic.py analyze --root CHECKOUT [--allow DIR]... [--cwd DIR] [--label L] TRACE_DIR
        Judge a trace written by `strace -ff -y -o TRACE_DIR/t ...`.

Judging a traced path, made absolute (relative paths against the process's
working directory: strace -y prints it for AT_FDCWD; chdir, fchdir and fork
are followed for the calls without a directory descriptor):
- inside the checkout or an --allow folder (the build folder): fine;
- an ancestor of those (the parent, /): fine when only looked at (stat,
  access, readlink, an O_PATH open), as path resolution does; opened, it is
  judged by the rules below (the parent lists the checkout's neighbours:
  flagged; /tmp above a checkout in /tmp/x/: a system folder, fine);
- anywhere else under the checkout's parent folder: flagged (how the JUnit
  schemas used to be read from beside the checkout);
- outside the system folders (usr, lib*, bin, sbin, etc, proc, sys, dev,
  tmp, var, run), in a top folder that exists on this machine: flagged (an
  absolute path into another checkout, a home folder). A top folder that
  does not exist holds nothing to depend on: error-path tests probe such
  paths (/nonexistent/x) on purpose.
An open that succeeded is judged by the file it really opened too (strace -y
prints it), so a symlink in the checkout that points outside is caught. When
the parent is a shared system folder (/, /tmp, ...) the parent rule would
flag every temporary file: it is skipped, with a notice, and the other
rules stay.

Exit status: 0 nothing outside, 1 something outside (listed on stderr), 2
the check itself could not run (no strace, a broken trace, bad usage).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

SYSTEM_ROOTS = {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc",
                "sys", "dev", "tmp", "var", "run"}
SHARED_PARENTS = {"/", "/tmp", "/var/tmp", "/dev/shm", "/run", "/var"}
DEFAULT_E2E = ["cli", "docs", "layers"]
STD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STRACE = ["strace", "-ff", "-y", "-s", "4096", "-qq", "--seccomp-bpf",
          "-e", "trace=%file,%process,fchdir"]

# Path arguments at fixed positions: (dirfd index or None, path index).
# Other traced calls have every string argument resolved against the
# working directory.
AT = {name: [(0, 1)] for name in (
    "openat", "openat2", "newfstatat", "fstatat64", "statx", "faccessat", "faccessat2",
    "mkdirat", "mknodat", "fchownat", "fchmodat", "futimesat", "utimensat", "unlinkat",
    "readlinkat", "execveat", "name_to_handle_at", "open_tree", "mount_setattr")}
AT.update({"renameat": [(0, 1), (2, 3)], "renameat2": [(0, 1), (2, 3)],
           "linkat": [(0, 1), (2, 3)], "move_mount": [(0, 1), (2, 3)],
           "symlinkat": [(1, 2)], "symlink": [(None, 1)], "rename": [(None, 0), (None, 1)],
           "link": [(None, 0), (None, 1)], "pivot_root": [(None, 0), (None, 1)],
           "mount": [(None, 1)], "readlink": [(None, 0)], "execve": [(None, 0)],
           "inotify_add_watch": [(None, 1)]})
OPENS = {"open", "openat", "openat2", "creat", "open_tree"}
FORKS = {"clone", "clone3", "fork", "vfork"}

CALL = re.compile(r"^(\w+)\((.*)$")
RET = re.compile(r"^(-?\d+)(?:<(.*)>)?")
DECOR = re.compile(r"^(?:AT_FDCWD|-?\d+)<(.*)>$")


def err(msg):
    print("hermetic: " + msg, file=sys.stderr)


# ---- strace output ---------------------------------------------------------

def unescape(s):
    """The text of a strace string literal (without its quotes)."""
    out, i = bytearray(), 0
    simple = {"n": 10, "t": 9, "r": 13, "v": 11, "f": 12, "\\": 92, '"': 34}
    while i < len(s):
        c = s[i]
        if c != "\\" or i + 1 >= len(s):
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        n = s[i + 1]
        if n == "x" and re.match(r"[0-9a-fA-F]{2}", s[i + 2:i + 4]):
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif n in "01234567":
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            out.append(int(m.group(0), 8) & 0xFF)
            i += 1 + len(m.group(0))
        else:
            out.append(simple.get(n, ord(n)))
            i += 2
    return out.decode("utf-8", "surrogateescape")


def split_args(s):
    """Top-level arguments of a call, up to its closing parenthesis."""
    args, cur, depth, i = [], [], 0, 0
    while i < len(s):
        c = s[i]
        if c == '"':
            j = i + 1
            while j < len(s) and s[j] != '"':
                j += 2 if s[j] == "\\" else 1
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c == "<" and re.search(r"(AT_FDCWD|\d)$", "".join(cur)):
            j = s.find(">", i)   # an fd decoration: 3</path>
            j = len(s) - 1 if j < 0 else j
            cur.append(s[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur, i = [], i + 1
            continue
        cur.append(c)
        i += 1
    if "".join(cur).strip():
        args.append("".join(cur).strip())
    return args


def result(rest):
    """The return value of a finished call, with its fd decoration."""
    m = None
    for m in re.finditer(r"\)\s+= ", rest):
        pass
    return RET.match(rest[m.end():]) if m else None


def literal(arg):
    if len(arg) >= 2 and arg[0] == '"':
        end = arg.rfind('"')
        if end > 0:
            return unescape(arg[1:end])
    return None


def under(p, d):
    return p == d or p.startswith(d.rstrip("/") + "/")


# ---- judging paths ---------------------------------------------------------

class Judge:
    def __init__(self, root, allow):
        dirs = [root] + allow
        self.inside = sorted({os.path.normpath(d) for d in dirs} |
                             {os.path.realpath(d) for d in dirs})
        parents = {os.path.dirname(os.path.normpath(root)),
                   os.path.dirname(os.path.realpath(root))}
        self.parents = sorted(p for p in parents if p not in SHARED_PARENTS)
        self.skipped = sorted(parents - set(self.parents))

    def verdict(self, path, looked_only):
        """None when the access is fine, else why it is outside."""
        if any(under(path, d) for d in self.inside):
            return None
        if looked_only and any(under(d, path) for d in self.inside):
            return None   # an ancestor, looked at while resolving a path
        for p in self.parents:
            if under(path, p):
                return "under the checkout's parent " + p
        top = path.strip("/").split("/")[0]
        if top and top not in SYSTEM_ROOTS and os.path.lexists("/" + top):
            return "outside the checkout and the system folders"
        return None


class Proc:
    def __init__(self, pid, cwd, exe="?"):
        self.pid, self.cwd, self.exe = pid, cwd, exe


def dirfd_base(arg, proc):
    m = DECOR.match(arg)
    if m:
        return unescape(m.group(1))
    return proc.cwd if arg.startswith("AT_FDCWD") else None


def scan_line(line, proc, judge, found):
    """Judge one trace line. Returns the child's pid for a fork, else None."""
    m = CALL.match(line)
    if not m:
        return None
    name, rest = m.group(1), m.group(2)
    args = split_args(rest)
    ret = result(rest)
    code = int(ret.group(1)) if ret else None
    if args and args[0].startswith("AT_FDCWD<"):
        proc.cwd = dirfd_base(args[0], proc)   # the kernel's word for the cwd
    if name in FORKS:
        return code if code and code > 0 else None
    if name == "fchdir":
        if code == 0 and args:
            proc.cwd = dirfd_base(args[0], proc) or proc.cwd
        return None
    pairs = AT.get(name)
    if pairs is None:
        pairs = [(None, i) for i, a in enumerate(args) if a.startswith('"')]
    opened = name in OPENS
    looked = not opened or "O_PATH" in rest
    for fd_i, p_i in pairs:
        p = literal(args[p_i]) if p_i < len(args) else None
        if not p:
            continue     # "" with AT_EMPTY_PATH names the fd itself
        if p.startswith("/"):
            base = "/"
        elif fd_i is None:
            base = proc.cwd
        else:
            base = dirfd_base(args[fd_i], proc) if fd_i < len(args) else None
        if base is None:
            if p.split("/")[0] == "..":   # climbs from who knows where
                found.append((p, name, proc, "relative to an unknown folder"))
            continue
        path = os.path.normpath(os.path.join(base, p))
        why = judge.verdict(path, looked)
        if why:
            found.append((path, name, proc, why))
        if name == "execve" and code == 0:
            proc.exe = path
        if name == "chdir" and code == 0:
            proc.cwd = path
    if opened and ret and ret.group(2) and code is not None and code >= 0:
        real = unescape(ret.group(2))
        why = judge.verdict(os.path.normpath(real), looked) if real.startswith("/") else None
        if why:
            found.append((real, name + ", the file opened", proc, why))
    return None


def analyze(tdir, judge, cwd):
    """[(path, call, proc, why)] for one traced command, or None when the
    directory holds no trace."""
    lines, children = {}, set()
    for f in os.listdir(tdir):
        m = re.match(r".*\.(\d+)$", f)
        if not m:
            continue
        with open(os.path.join(tdir, f), encoding="utf-8", errors="surrogateescape") as fh:
            lines[int(m.group(1))] = fh.read().splitlines()
    if not lines:
        return None
    for ls in lines.values():
        for ln in ls:
            m = CALL.match(ln)
            r = result(m.group(2)) if m and m.group(1) in FORKS else None
            if r and int(r.group(1)) > 0:
                children.add(int(r.group(1)))
    # Walk the process tree from its roots: a child starts in the folder its
    # parent was in when it forked.
    queue = [Proc(pid, cwd) for pid in sorted(lines) if pid not in children]
    found, seen = [], set()
    while queue:
        proc = queue.pop(0)
        if proc.pid in seen:
            continue
        seen.add(proc.pid)
        for ln in lines.get(proc.pid, []):
            child = scan_line(ln, proc, judge, found)
            if child:
                queue.append(Proc(child, proc.cwd, proc.exe))
    return found


def report(label, found):
    uniq = {}
    for path, name, proc, why in found:
        uniq.setdefault((path, why), (name, proc.exe, proc.pid))
    for (path, why), (name, exe, pid) in sorted(uniq.items()):
        err("%s: %s: %s (%s, by %s, pid %d)" % (label, path, why, name, exe, pid))
    return len(uniq)


# ---- static scan of the tracked files --------------------------------------

# A parent-folder component: two dots and a slash after the start, a
# slash, a quote, a blank, =, (, :, { or a comma; a slash and two dots
# before a slash, a quote, a blank, ), ;, :, } or the end; cd to two dots.
# (Two dots alone are Lua's concatenation or a range.) This file spells
# them so that it passes its own check.
DOTDOT = re.compile(r"""(?:^|(?<=[/"'\s=(:{,]))\.\./|/\.\.(?=[/"'\s);:}]|$)|\bcd\s+\.\.(?=[\s;&|)]|$)""")
# Parent folders of $(dirname "$0") or $(dirname "${BASH_SOURCE[0]}"):
# relative to the script itself, fine while they climb no higher than the
# repository.
ANCHOR = re.compile(r"""dirname\s+"?\$(?:0|\{BASH_SOURCE(?:\[0\])?\}|BASH_SOURCE)"?\s*\)"?((?:/\.\.)+)""")
FOREIGN = re.compile(r"""(?:^|(?<=[\s"'=(:,\[]))/(?:work|home|root|Users|mnt|srv|builds|github|workspace|media)/""")
HOME = re.compile(r"""(?:^|(?<=[\s"'=(:,]))~/|\$\{?HOME\b""")


def static(root):
    root = os.path.abspath(root)
    out = subprocess.run(["git", "-C", root, "ls-files", "-s", "-z"], capture_output=True)
    if out.returncode != 0:
        err("static: %s is not a git checkout" % root)
        return 2
    parents = {os.path.dirname(root), os.path.dirname(os.path.realpath(root))} - SHARED_PARENTS
    parent_re = [re.compile(r"(?<![\w.-])" + re.escape(p) + r"(?=/|[\"'\s]|$)") for p in parents]
    bad = 0
    for entry in out.stdout.decode("utf-8", "surrogateescape").split("\0"):
        if not entry:
            continue
        meta, rel = entry.split("\t", 1)
        path = os.path.join(root, rel)
        if meta.startswith("120000"):
            target = os.readlink(path) if os.path.islink(path) else ""
            dest = os.path.normpath(os.path.join(os.path.dirname(rel), target))
            if target.startswith("/") or dest.split("/")[0] == "..":
                err("%s: a symlink to %s, outside the checkout" % (rel, target))
                bad += 1
            continue
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            continue     # deleted in the work tree: nothing to read
        if b"\0" in data:
            continue     # binary
        depth = len(os.path.dirname(rel).split("/")) if os.path.dirname(rel) else 0
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            why = static_line(line, depth, parent_re)
            if why:
                err("%s:%d: %s: %s" % (rel, n, why, line.strip()[:160]))
                bad += 1
    if bad:
        err("static: %d line(s) point outside the checkout; keep what the tests need "
            "under tests/data/ and name it relative to the repository" % bad)
        return 1
    print("hermetic: static: ok (%s)" % root)
    return 0


def static_line(line, depth, parent_re):
    """Why line points outside the checkout, or None."""
    def mask(m):
        ups = m.group(1).split("/").count("..")
        return m.group(0).replace("..", "__") if ups <= depth else m.group(0)
    if DOTDOT.search(ANCHOR.sub(mask, line)):
        return "a '..' that leaves the repository (or is relative to the caller's folder)"
    for r in parent_re:
        if r.search(line):
            return "the checkout's parent folder"
    if FOREIGN.search(line):
        return "an absolute path into a home or work folder"
    if HOME.search(line):
        return "the home folder"
    return None


# ---- tracing the tests -----------------------------------------------------

def run_traced(cmd, cwd, env, tdir, log, timeout):
    """Run cmd under strace (trace files in tdir). Returns the exit status,
    or None when it timed out (its process group is then killed)."""
    with open(log, "wb") as out:
        p = subprocess.Popen(STRACE + ["-o", os.path.join(tdir, "t")] + cmd, cwd=cwd, env=env,
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        try:
            return p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return None


def canary(work):
    """Trace a read of a file beside a made-up checkout: the check must see
    it, or tracing does not work here and a clean result would mean
    nothing."""
    parent = os.path.join(work, "canary")
    checkout = os.path.join(parent, "checkout")
    tdir = os.path.join(work, "canary-trace")
    os.makedirs(checkout)
    os.makedirs(tdir)
    with open(os.path.join(parent, "beside.txt"), "w") as fh:
        fh.write("outside\n")
    read = "cd sub 2>/dev/null; cat " + os.path.join("..", "beside.txt")
    rc = run_traced(["sh", "-c", read], checkout, {"PATH": STD_PATH}, tdir,
                    os.path.join(work, "canary.log"), 60)
    found = analyze(tdir, Judge(checkout, []), checkout) if rc == 0 else None
    return bool(found) and any(f[0] == os.path.join(parent, "beside.txt") for f in found)


def ctest_plan(build, e2e, work):
    """(name, command, properties) of the tests to trace, as ctest would run
    them. ctest writes Testing/ where it runs, and the ctest that may be
    running this check owns the build's: list from a copy of the test file."""
    listing = os.path.join(work, "ctest")
    os.makedirs(listing)
    try:
        with open(os.path.join(build, "CTestTestfile.cmake")) as fh:
            text = fh.read()
    except OSError:
        return None
    if "subdirs(" in text:
        return None   # one test file is all this project has; more would be missed
    with open(os.path.join(listing, "CTestTestfile.cmake"), "w") as fh:
        fh.write(text)
    out = subprocess.run(["ctest", "--show-only=json-v1"], cwd=listing, capture_output=True)
    if out.returncode != 0:
        return None
    plan = []
    for t in json.loads(out.stdout).get("tests", []):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        if "unit" in props.get("LABELS", []) or t["name"] in ["e2e_" + n for n in e2e]:
            plan.append((t["name"], t["command"], props))
    return plan


def trace(build, e2e):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.path.abspath(build)
    if not shutil.which("strace"):
        err("strace is missing (bash ci/setup.sh installs it)")
        return 2
    work = tempfile.mkdtemp(prefix="fl-hermetic.")
    try:
        plan = ctest_plan(build, e2e, work)
        if plan is None:
            err("cannot list the tests of %s (ctest --show-only=json-v1)" % build)
            return 2
        names = {n for n, _, _ in plan}
        missing = [n for n in e2e if "e2e_" + n not in names]
        if missing or not any(n.startswith("test_") for n in names):
            err("nothing to trace: no unit test, or no e2e test %s, in %s" % (missing, build))
            return 2
        if not canary(work):
            err("strace did not show a planted read beside a checkout: tracing does not "
                "work here, so a clean result would prove nothing")
            return 2
        judge = Judge(root, [build] + git_dirs(root))
        for p in judge.skipped:
            print("hermetic: note: the checkout's parent %s is a shared system folder: the "
                  "parent rule is off, the other rules apply" % p)
        home = os.path.join(work, "home")
        os.makedirs(home)
        total, failed = 0, []
        for name, cmd, props in plan:
            env = {"PATH": STD_PATH, "HOME": home, "LANG": "C.UTF-8", "TERM": "dumb"}
            env.update(kv.split("=", 1) for kv in props.get("ENVIRONMENT", []) if "=" in kv)
            cwd = props.get("WORKING_DIRECTORY", build)
            tdir = os.path.join(work, name)
            os.makedirs(tdir)
            log = os.path.join(work, name + ".log")
            rc = run_traced(cmd, cwd, env, tdir, log, min(float(props.get("TIMEOUT", 300)), 600) + 60)
            found = analyze(tdir, judge, cwd)
            if found is None or not traced_exec(tdir, cmd[0]):
                err("%s: no trace of %s: strace did not follow it" % (name, cmd[0]))
                return 2
            total += report(name, found)
            if rc != 0:
                failed.append("%s (%s)" % (name, "timed out" if rc is None else "exit %d" % rc))
                with open(log, encoding="utf-8", errors="replace") as fh:
                    tail = fh.read().splitlines()[-12:]
                print("hermetic: %s failed under strace; its last lines:\n  %s"
                      % (name, "\n  ".join(tail)))
            shutil.rmtree(tdir)
        if failed:
            # The regular run reports test failures; here they only mean the
            # trace may have stopped early.
            print("hermetic: note: failed under strace: %s. The regular run judges the tests; "
                  "here only their file accesses count (ptrace changes some of what they see: "
                  "a stopped process shows state 't', not 'T')" % ", ".join(failed))
        if total:
            err("%d access(es) outside the checkout in %d traced test(s); keep what the "
                "tests need under tests/data/" % (total, len(plan)))
            return 1
        print("hermetic: trace: ok (%d tests, and every process they started, touched "
              "nothing outside %s, %s and the system folders)" % (len(plan), root, build))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def git_dirs(root):
    """The repository's own metadata (a worktree's lives in the main
    checkout's .git): part of the checkout, whoever reads it."""
    out = subprocess.run(["git", "-C", root, "rev-parse", "--absolute-git-dir",
                          "--git-common-dir"], capture_output=True, text=True)
    if out.returncode != 0:
        return []
    return [os.path.normpath(os.path.join(root, d)) for d in out.stdout.split()]


def traced_exec(tdir, exe):
    want = os.path.basename(exe)
    for f in os.listdir(tdir):
        with open(os.path.join(tdir, f), encoding="utf-8", errors="surrogateescape") as fh:
            for ln in fh:
                if ln.startswith("execve(") and "= 0" in ln:
                    p = literal(split_args(ln[len("execve("):])[0]) or ""
                    if os.path.basename(p) == want:
                        return True
    return False


def main(argv):
    if len(argv) >= 2 and argv[0] == "static":
        return static(argv[1])
    if len(argv) >= 2 and argv[0] == "trace":
        return trace(argv[1], argv[2:] or DEFAULT_E2E)
    if len(argv) >= 2 and argv[0] == "analyze":
        root, allow, label, cwd, tdir = None, [], "trace", None, None
        it = iter(argv[1:])
        for a in it:
            if a in ("--root", "--allow", "--label", "--cwd"):
                v = next(it, "")
                if a == "--root":
                    root = v
                elif a == "--allow":
                    allow.append(v)
                elif a == "--label":
                    label = v
                else:
                    cwd = v
            else:
                tdir = a
        if root and tdir and os.path.isdir(tdir):
            found = analyze(tdir, Judge(os.path.abspath(root), [os.path.abspath(d) for d in allow]),
                            cwd)
            if found is None:
                err("no trace files in " + tdir)
                return 2
            return 1 if report(label, found) else 0
    print(__doc__.split("\n\n")[0] + "\n(see the header of tools/hermetic.py)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
