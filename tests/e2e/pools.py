"""The stack's supervised FastCGI pools, as the tests see them. Each pool
(api, image, runner) is one supervisor process, whose pid is in
$DLCS_VAR/run/<pool>.pid and whose command line carries `-w N`; its workers
are its children, and it replaces any that dies (fcgi/supervise.h).

A test that kills a worker on purpose goes through kill_worker(), which first
adds the pid to $DLCS_VAR/run/deliberate-kills: .stack/test fails the run for
every death the supervisors log except those."""

import os
import signal
import time

PROGRAMS = {"api": "dlcs-api", "image": "dlcs-image", "runner": "dlcs-runner"}
DELIBERATE = "deliberate-kills"


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
    except OSError:
        return []


def _environ_has(pid, entry):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            return entry.encode() in f.read().split(b"\0")
    except OSError:
        return False


def alive(pid):
    """Alive and not a zombie (a dead worker is a zombie until reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def _ours(dlcs_var, pool, pid):
    """pid runs the pool's program with this stack's configuration."""
    args = _cmdline(pid)
    return bool(args) and os.path.basename(args[0]) == PROGRAMS[pool] and alive(pid) and \
        _environ_has(pid, "DLCS_CONFIG=" + os.path.join(dlcs_var, "dlcs.conf"))


def _children(pid):
    kids = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids.extend(int(k) for k in f.read().split())
        return kids
    except OSError:
        pass
    # no children file in this kernel: the parent pid of every process
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        kids.append(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return kids


def supervisor(dlcs_var, pool):
    """The pid of the pool's live supervisor, or None."""
    try:
        with open(os.path.join(dlcs_var, "run", pool + ".pid")) as f:
            pids = [int(p) for p in f.read().split() if p.isdigit()]
    except FileNotFoundError:
        return None
    for pid in pids:
        if _ours(dlcs_var, pool, pid):
            return pid
    return None


def size(dlcs_var, pool):
    """The number of workers the pool keeps (its supervisor's -w)."""
    sup = supervisor(dlcs_var, pool)
    assert sup, "pool %s has no live supervisor (%s/run/%s.pid)" % (pool, dlcs_var, pool)
    args = _cmdline(sup)
    assert "-w" in args, "supervisor %d has no -w: %s" % (sup, args)
    return int(args[args.index("-w") + 1])


def workers(dlcs_var, pool):
    """The live worker pids of the pool, sorted."""
    sup = supervisor(dlcs_var, pool)
    if sup is None:
        return []
    return sorted(p for p in _children(sup) if _ours(dlcs_var, pool, p))


def record_deliberate(dlcs_var, pids):
    """Adds pids to run/deliberate-kills (the deaths .stack/test discounts)."""
    with open(os.path.join(dlcs_var, "run", DELIBERATE), "a") as f:
        for pid in pids:
            f.write("%d\n" % pid)


def kill_worker(dlcs_var, pool, pid, sig=signal.SIGKILL):
    """Kills a worker of the pool on purpose (recorded first) and waits until
    it is gone."""
    assert pid in workers(dlcs_var, pool), "pid %d is not a worker of pool %s: %s" % (
        pid, pool, workers(dlcs_var, pool))
    record_deliberate(dlcs_var, [pid])
    os.kill(pid, sig)
    deadline = time.time() + 10
    while alive(pid):
        assert time.time() < deadline, "worker %d survived signal %d" % (pid, sig)
        time.sleep(0.01)


def wait_full(dlcs_var, pool, timeout, without=()):
    """Waits until the pool has its full size again with none of `without`
    among its workers; returns the seconds it took, or None after timeout."""
    t0 = time.time()
    n = size(dlcs_var, pool)
    gone = set(without)
    while True:
        w = workers(dlcs_var, pool)
        if len(w) == n and not gone & set(w):
            return time.time() - t0
        if time.time() - t0 > timeout:
            return None
        time.sleep(0.01)
