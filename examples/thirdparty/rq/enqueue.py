"""Enqueue one slow job with a fixed id, then stay up until stopped.

    enqueue.py REDIS_URL JOB_ID SECONDS OUT_DIR

It runs as a faultline service: a service that exits is reported as an
exit, so after the enqueue it waits (bounded: one sleep) for the stop.
Started once per run, it never enqueues the job a second time, so a worker
restarted after a kill cannot pick up a fresh copy and hide the loss.
"""
import sys
import time

from redis import Redis
from rq import Queue


def main():
    url, job_id, seconds, out_dir = sys.argv[1:5]
    q = Queue("default", connection=Redis.from_url(url))
    # job_timeout bounds the job in the horse; result_ttl keeps the result
    # for the check after the run.
    q.enqueue("jobs.slow", seconds, out_dir, job_id=job_id,
              job_timeout=60, result_ttl=600)
    print("enqueued %s (%ss)" % (job_id, seconds), flush=True)
    time.sleep(3600)


if __name__ == "__main__":
    main()
