"""Print what RQ says about a job, one `name: value` per line.

    inspect_job.py REDIS_URL JOB_ID [--cleanup]

status     the job's status in RQ (queued, started, finished, failed)
registries the registries holding it (started, finished, failed)
expires    for a job in the started registry: in how many seconds its
           entry expires (its last heartbeat plus the heartbeat TTL)
done       whether the job's own completion record is in Redis
workers    workers registered in Redis (a killed worker stays until its
           key expires), with their state, current job and key TTL
cleanup    the status RQ's StartedJobRegistry cleanup gives the job once
           its heartbeat has expired (run here with a timestamp an hour
           ahead, as a worker's maintenance would after that hour)
"""
import sys
import time

from redis import Redis
from rq import Queue, Worker
from rq.job import Job
from rq.registry import FailedJobRegistry, FinishedJobRegistry, StartedJobRegistry


def main():
    url, job_id = sys.argv[1:3]
    conn = Redis.from_url(url)
    q = Queue("default", connection=conn)
    job = Job.fetch(job_id, connection=conn)
    print("status:", job.get_status())
    regs = []
    for name, reg in (("started", StartedJobRegistry), ("finished", FinishedJobRegistry),
                      ("failed", FailedJobRegistry)):
        if job_id in reg(queue=q).get_job_ids():
            regs.append(name)
    print("registries:", ",".join(regs) or "-")
    score = conn.zscore(StartedJobRegistry(queue=q).key, job_id)
    if score is not None:
        print("expires: in %.0fs" % (score - time.time()))
    done = [d.decode() for d in conn.lrange("faultline:done", 0, -1)]
    print("done:", "yes" if job_id in done else "no")
    horse = {k.decode(): v.decode() for k, v in conn.hgetall("faultline:horse:" + job_id).items()}
    print("horse:", " ".join("%s=%s" % kv for kv in sorted(horse.items())) or "-")
    for w in Worker.all(connection=conn):
        print("worker: %s pid=%s state=%s job=%s ttl=%ss" % (
            w.name, w.pid, w.get_state(), w.get_current_job_id(), conn.ttl(w.key)))
    # Optional: what RQ's own cleanup makes of the job an hour from now.
    if "--cleanup" in sys.argv:
        StartedJobRegistry(queue=q).cleanup(timestamp=time.time() + 3600)
        job = Job.fetch(job_id, connection=conn)
        print("cleanup: status=%s exc=%s" % (job.get_status(), (job.exc_info or "").strip()[:80]))


if __name__ == "__main__":
    main()
