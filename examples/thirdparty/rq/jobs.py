"""The job the RQ scenarios run: it notes where it runs, works for a while,
then records that it finished - in a file and in Redis - so that a check
after the run can tell a job that finished from one that was killed.

RQ runs each job in a "work horse" that the worker forks and that calls
setsid(): the horse is in a session and process group of its own.
"""
import os
import time

from rq import get_current_job


def slow(seconds, out_dir):
    job = get_current_job()
    conn = job.connection
    where = "pid=%d pgid=%d sid=%d ppid=%d" % (
        os.getpid(), os.getpgid(0), os.getsid(0), os.getppid())
    conn.hset("faultline:horse:" + job.id, mapping={
        "pid": os.getpid(), "pgid": os.getpgid(0), "sid": os.getsid(0),
        "ppid": os.getppid()})
    _write(os.path.join(out_dir, job.id + ".started"), where)
    time.sleep(float(seconds))
    # Both effects are what "the job ran to its end" means; a check after
    # the run looks at either.
    _write(os.path.join(out_dir, job.id + ".done"), where)
    conn.rpush("faultline:done", job.id)
    return "done"


def _write(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, path)
