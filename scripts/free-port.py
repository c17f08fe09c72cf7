#!/usr/bin/env python3
"""Prints a TCP port free on 127.0.0.1 for a test daemon (slurmctld, slurmd, PostgreSQL).

Not the kernel's choice (bind to port 0): that comes from the ephemeral range, the same range
the kernel hands out as source ports to outgoing connections. With many tests connecting at once
a port picked that way, released and bound again a second later by the daemon, is sometimes
taken by then ("Address already in use"). So: a random port below the ephemeral range, checked
free by binding it. Arguments: ports to avoid (already given to this testbed)."""
import random
import socket
import sys

avoid = {int(a) for a in sys.argv[1:]}
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        ephemeral_low = int(f.read().split()[0])
except OSError:
    ephemeral_low = 32768
low, high = 20000, max(ephemeral_low, 20000 + 1024)  # [low, high): 12768 ports by default
for _ in range(1000):
    port = random.randrange(low, high)
    if port in avoid:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("free-port: no free port in [%d, %d) on 127.0.0.1" % (low, high))
