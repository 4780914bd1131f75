#!/usr/bin/env python3
"""Writes N sosreport tarballs of one node each, for timing `analyze` over
many bundles against `analyze --each` (README, "A fleet of nodes"). Each
holds LOG (default: the seed's samples/dockerd-stop-loop/messages) as
var/log/messages and samples/five-formats/dmesg.txt as
sos_commands/kernel/dmesg, with the host name made node-NNN and every
12-to-64-hex ID's first four digits made the node's number, so that no two
nodes share a container. Pod names are left as they are: the same on every
node. Composed from real lines for load only, not a test input.

    python3 benches/fleet_bundles.py 200 /tmp/bundles
    podmortem analyze --quiet --each --format json /tmp/bundles/*.tar.gz
"""
import io
import os
import re
import sys
import tarfile

here = os.path.dirname(os.path.abspath(__file__))
samples = os.path.join(here, "..", "samples")
n, out = int(sys.argv[1]), sys.argv[2]
log = sys.argv[3] if len(sys.argv) > 3 else os.path.join(samples, "dockerd-stop-loop", "messages")
os.makedirs(out, exist_ok=True)
messages = open(log).read()
dmesg = open(os.path.join(samples, "five-formats", "dmesg.txt"), "rb").read()
for i in range(n):
    host = f"node-{i:03d}"
    root = f"sosreport-{host}-2023-05-08"
    own = re.sub(
        r"\b[0-9a-f]{12,64}\b",
        lambda m: f"{i:04x}" + m.group(0)[4:],
        messages.replace("ecs-prod-003", host),
    )
    files = [(f"{root}/var/log/messages", own.encode()), (f"{root}/sos_commands/kernel/dmesg", dmesg)]
    with tarfile.open(os.path.join(out, f"{root}.tar.gz"), "w:gz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
