#!/usr/bin/env python3
"""Composes a log whose every line matches (issue 10's worst case for memory):
N containers stuck in dockerd's stop loop at once, each alternating the
forced-stop and direct-SIGKILL lines every 10 s, until SIZE MiB are written.
The line shapes are those of samples/dockerd-stop-loop/messages (composed
here, not real lines).

    python3 benches/stop_loop_corpus.py --containers 2000 --size-mb 400 -o /tmp/loop.log
"""
import argparse
import datetime
import hashlib

p = argparse.ArgumentParser()
p.add_argument("--containers", type=int, default=2000)
p.add_argument("--size-mb", type=int, default=400)
p.add_argument("-o", required=True)
a = p.parse_args()

ids = [hashlib.sha256(b"ctr%d" % i).hexdigest() for i in range(a.containers)]
start = datetime.datetime(2023, 5, 1, 10, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
limit = a.size_mb * 1024 * 1024
written = 0
rnd = 0
with open(a.o, "w") as out:
    while written < limit:
        for i, cid in enumerate(ids):
            t = start + datetime.timedelta(seconds=10 * rnd, microseconds=i * 4000)
            head = t.strftime("%b %e %H:%M:%S")
            stamp = t.isoformat(timespec="microseconds").replace("+08:00", "000+08:00")
            if rnd % 2 == 0:
                msg = f"Container {cid} failed to exit within 10 seconds of signal 15 - using the force"
            else:
                msg = f"Container {cid[:12]} failed to exit within 10 seconds of kill - trying direct SIGKILL"
            line = f'{head} ecs-prod-003 dockerd: time="{stamp}" level=info msg="{msg}"\n'
            out.write(line)
            written += len(line)
            if written >= limit:
                break
        rnd += 1
