#!/usr/bin/env python3
"""Write the recorded histories that try to fool faultline's checkers.

Each NAME.jsonl is one run's history in the --events format, as the runner
records it (phases start .. done, ops in time order, op indexes from 0),
built by hand to hold one trick; tests/e2e/check.sh runs `faultline check`
on each with the scenario named in CASES below and asserts the verdict,
the exit code and the counterexample keys. The files are committed; run
this again after changing a case:  python3 tests/data/histories/make.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE, FAULT, TARGET, RUNNER = 1000000000, 1100000000, 1200000000, 1300000000
PHASES = ["start", "steady", "timeline", "heal", "settle", "drain", "teardown", "done"]


class History:
    def __init__(self, duration=30.0, settle=5.0):
        self.ops = []
        self.seq = 0
        self.end = duration + settle
        t = 0.0
        for name, at in zip(PHASES, [0.0, 0.5, 1.0, duration, duration, self.end,
                                     self.end + 0.5, self.end + 1.0]):
            self.add(at, RUNNER, "ok", "runner", "phase", value=name)

    def add(self, t, proc, type_, source, f, key=None, value=None, error=None):
        self.seq += 1
        self.ops.append((int(round(t * 1e6)), self.seq, dict(
            time_us=int(round(t * 1e6)), process=proc, type=type_, source=source, f=f,
            key=key, value=value, error=error)))

    # workload: a main request, its follow polls, maybe a give-up
    def job(self, proc, key, t, polls=(), give_up=None, wl="submit", status="202",
            note=None):
        self.add(t - 0.02, proc, "invoke", wl, "request")
        self.add(t, proc, "ok", wl, "request", key=key, value=status,
                 error=note if key is None else None)
        for tp, v in polls:
            self.add(tp - 0.01, proc, "invoke", wl, "poll", key=key)
            if v is None:
                continue                        # invoked, never answered
            if v.startswith("fail:"):
                self.add(tp, proc, "fail", wl, "poll", key=key, error=v[5:])
            else:
                self.add(tp, proc, "ok", wl, "poll", key=key, value=v)
        if give_up is not None:
            self.add(give_up, proc, "info", wl, "follow", key=key,
                     value=polls[-1][1] if polls else None, error="follow timeout")

    def sample(self, t, ok, probe="health", key=None, proc=PROBE, value="200", bad="http:503"):
        self.add(t - 0.005, proc, "invoke", probe, "probe", key=key)
        if ok is None:
            return                              # invoked, never answered
        if ok:
            self.add(t, proc, "ok", probe, "probe", key=key, value=value)
        else:
            self.add(t, proc, "fail", probe, "probe", key=key, value=bad)

    def samples(self, t0, t1, healthy, **kw):
        k = 0
        while t0 + k * 0.5 <= t1 + 1e-9:
            t = t0 + k * 0.5
            self.sample(t, healthy(t), **kw)
            k += 1

    def fault(self, n, t, desc, heal=None, source="redis.pause", key="redis.0"):
        self.add(t - 0.002, FAULT + n, "invoke", source, "fault", key=key)
        self.add(t, FAULT + n, "ok", source, "fault", key=key, value=desc)
        if heal is not None:
            self.add(heal - 0.002, FAULT + n, "invoke", source, "heal", key=key)
            self.add(heal, FAULT + n, "ok", source, "heal", key=key, value="healed")

    def lines(self):
        out = []
        for i, (_, _, op) in enumerate(sorted(self.ops, key=lambda o: (o[0], o[1]))):
            rec = {"index": i}
            rec.update(op)
            out.append(json.dumps(rec, separators=(",", ":")) + "\n")
        return out


def up(t):
    return True


def write(name, lines):
    with open(os.path.join(HERE, name + ".jsonl"), "w") as f:
        f.writelines(lines)


def jobs_run(h, n=10, t0=2.0, stuck=(), flip=(), keyless=(), overlap=()):
    """n jobs accepted 1s apart; each polled pending, running, complete."""
    for i in range(n):
        key = "job-%d" % i
        t = t0 + i
        if i in keyless:
            h.job(i, None, t, note="capture job: no value at /job_id")
            continue
        if i in stuck:
            polls = [(t + 0.25 * (k + 1), "pending") for k in range(40)]
            h.job(i, key, t, polls, give_up=t + 10.5)
            continue
        seq = ["pending", "running", "complete"]
        if i in flip:
            seq = ["pending", "http:404", "pending", "running", "complete"]
        h.job(i, key, t, [(t + 0.25 * (k + 1), v) for k, v in enumerate(seq)])


def main():
    # ---- a whole, passing run, and what can go wrong with its file -------
    h = History()
    jobs_run(h)
    h.samples(0.5, 35.0, lambda t: not (10.0 <= t < 12.0))
    h.fault(0, 10.0, "pause redis.0", heal=12.0)
    ok = h.lines()
    write("run-ok", ok)
    write("run-gap", ok[:40] + ok[41:])                      # one line lost
    write("run-truncated", ok[:len(ok) * 2 // 3])            # the writer died
    write("run-duplicate", ok[:50] + [ok[49]] + ok[50:])      # a line written twice
    write("run-two-runs", ok + ok)                            # `run --events` of two runs
    h = History()
    jobs_run(h, n=4)
    h.samples(0.5, 20.0, up)
    h.add(20.5, RUNNER, "info", "runner", "harness",
          error="injection failed: redis.pause redis.0: connection refused")
    write("run-harness-error", h.lines())
    # one invariant violated, another unknown: the violation decides
    h = History()
    jobs_run(h, stuck=(3,))
    h.samples(0.5, 9.5, up)                                   # stops before the fault
    h.fault(0, 10.0, "pause redis.0", heal=12.0)
    write("run-violated-and-unknown", h.lines())
    # the same violation in a history with a lost line: unknown, not a pass
    lines = h.lines()
    write("run-violated-with-gap", lines[:30] + lines[31:])

    # ---- lifecycle ------------------------------------------------------------
    h = History()                      # 15 accepted, 5 of them without a job id
    jobs_run(h, n=15, keyless=(2, 5, 8, 11, 14))
    h.samples(0.5, 35.0, up)
    write("lifecycle-keyless", h.lines())
    h = History()                      # a zombie job: pending until the follow gives up
    jobs_run(h, stuck=(7,))
    h.samples(0.5, 35.0, up)
    write("lifecycle-stuck", h.lines())
    h = History()                      # the last poll of job-0 was never answered
    h.job(50, "job-late", 2.0, [(3.0, "pending"), (20.0, None)])
    jobs_run(h, n=3, t0=3.0)
    h.samples(0.5, 35.0, up)
    write("lifecycle-unanswered", h.lines())

    # ---- transitions ------------------------------------------------------------
    h = History()
    jobs_run(h, flip=(4,))
    h.samples(0.5, 35.0, up)
    write("transitions-flip", h.lines())
    h = History()                      # overlapping polls answered out of order
    jobs_run(h, n=3)
    h.add(20.0, 0, "invoke", "submit", "request")
    h.add(20.1, 0, "ok", "submit", "request", key="job-x", value="202")
    h.add(20.2, 0, "invoke", "submit", "poll", key="job-x")
    h.add(20.3, 9, "invoke", "submit", "poll", key="job-x")
    h.add(20.4, 9, "ok", "submit", "poll", key="job-x", value="running")
    h.add(20.5, 0, "ok", "submit", "poll", key="job-x", value="pending")
    h.add(21.0, 0, "invoke", "submit", "poll", key="job-x")
    h.add(21.1, 0, "ok", "submit", "poll", key="job-x", value="complete")
    h.samples(0.5, 35.0, up)
    write("transitions-overlap", h.lines())

    # ---- recovers / always ---------------------------------------------------------
    h = History()                      # healthy at 6.5s, 503 from 7s to 29.5s, healthy at 30s
    h.fault(0, 5.0, "pause redis.0", heal=6.0)
    h.samples(0.5, 35.0, lambda t: t < 5.0 or t == 6.5 or t >= 30.0)
    write("recovers-once-then-down", h.lines())
    h = History()                      # after the deadline, an isolated 503 every 2s
    h.fault(0, 5.0, "pause redis.0", heal=6.0)
    h.samples(0.5, 35.5, lambda t: t < 5.0 or (t >= 7.0 and int(t * 2) % 4 != 0))
    write("recovers-flapping", h.lines())
    h = History()                      # the probe stopped before the fault
    h.samples(0.5, 9.5, up)
    h.fault(0, 10.0, "pause redis.0", heal=12.0)
    write("recovers-never-sampled", h.lines())
    h = History()                      # no sample between 14.5s (503) and 18.5s (200)
    h.fault(0, 5.0, "pause redis.0", heal=8.0)
    h.samples(0.5, 14.5, lambda t: t < 5.0)
    h.samples(18.5, 35.0, up)
    write("recovers-gap", h.lines())
    h = History()                      # the last probe request never answered
    h.fault(0, 5.0, "pause redis.0", heal=6.0)
    h.samples(0.5, 34.5, lambda t: not (5.0 <= t < 7.0))
    h.sample(35.0, None)
    write("always-probe-hung", h.lines())
    h = History()                      # the probe stopped before the fault
    h.samples(0.5, 9.5, up)
    h.fault(0, 10.0, "pause redis.0", heal=12.0)
    write("always-never-sampled", h.lines())

    # ---- no_loss --------------------------------------------------------------------
    def writes(h, elems, t0=1.0, skip_ack=(), in_flight=(), no_elem=()):
        for i, e in enumerate(elems):
            t = t0 + 0.1 * i
            elem = None if e in no_elem else e
            h.add(t - 0.01, 100 + i, "invoke", "writes", "write", key="acked", value=elem)
            if e in in_flight:
                continue
            h.add(t, 100 + i, "info" if e in skip_ack else "ok", "writes", "write",
                  key="acked", value=elem, error="timeout" if e in skip_ack else None)

    def final_read(h, elems, t=32.0):
        h.add(t - 0.1, 999, "invoke", "writes", "read", key="acked")
        h.add(t, 999, "ok", "writes", "read", key="acked", value=json.dumps(elems))

    elems = ["w-%d" % i for i in range(20)]
    h = History()
    writes(h, elems)
    final_read(h, [e for e in elems if e != "w-13"])
    write("no_loss-lost", h.lines())
    h = History()
    writes(h, elems, in_flight=("w-4",))
    final_read(h, [e for e in elems if e != "w-4"])
    write("no_loss-in-flight", h.lines())
    h = History()
    writes(h, elems, no_elem=("w-9",))
    final_read(h, [e for e in elems if e != "w-9"])
    write("no_loss-no-element", h.lines())

    # ---- agreement --------------------------------------------------------------------
    def store(h, value_of, reps=("api.0", "api.1", "api.2"), t1=35.0):
        k = 0
        while k * 0.25 <= t1:
            t = k * 0.25
            for r, rep in enumerate(reps):
                v = value_of(rep, t)
                if v is not None:
                    h.sample(t + 0.001 * r, v != "fail", probe="store", key=rep,
                             proc=PROBE + 1000 * r, value=v, bad=None)
            k += 1
    h = History()                      # api.1 falls back to file at 6s and stays there
    h.fault(0, 5.0, "kill redis.0", source="redis.failover", key="redis.0")
    store(h, lambda rep, t: "file" if rep == "api.1" and t >= 6.0 else "redis")
    write("agreement-split", h.lines())
    h = History()                      # api.1 and api.2 never answer: nothing to compare
    store(h, lambda rep, t: "redis" if rep == "api.0" else "fail")
    write("agreement-one-replica", h.lines())

    # ---- malformed files --------------------------------------------------------------
    ok_lines = write_bad = None
    with open(os.path.join(HERE, "run-ok.jsonl")) as f:
        ok_lines = f.readlines()
    bad = list(ok_lines[:2])
    bad.append(ok_lines[2].replace('"type":"ok"', '"type":"maybe"'))
    write("bad-type", bad + ok_lines[3:])
    write("bad-json", ok_lines[:5] + ['{"index":5,"time_us":1,"process":0,\n'] + ok_lines[6:])
    with open(os.path.join(HERE, "bad-binary.jsonl"), "wb") as f:
        f.write(bytes(range(256)) * 4)


if __name__ == "__main__":
    main()
