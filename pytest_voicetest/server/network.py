"""The addresses this host sends outbound traffic from (seed 000's egress IPs, locally).

The kernel's routing table picks the source address for a destination; connecting a
UDP socket asks it without sending a packet. The destinations are documentation
addresses (TEST-NET-1, 2001:db8::/32), so nothing leaves the machine.
"""

from __future__ import annotations

import os
import socket

PROBES = ((socket.AF_INET, ("192.0.2.1", 9)), (socket.AF_INET6, ("2001:db8::1", 9)))
NOTE = (
    "These are this host's own source addresses for outbound traffic, as its routing table chooses them "
    "(one per IP version with a route out). They are not static NAT gateway addresses: behind NAT, a proxy or "
    "a cloud load balancer the far side sees another address, and they change when this host's network does. "
    "Allowlist them only for systems this host reaches directly; set VOICETEST_REGION to name the deployment region."
)


def egress_ips() -> list[str]:
    found = []
    for family, target in PROBES:
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as probe:
                probe.connect(target)
                address = str(probe.getsockname()[0])
        except OSError:  # no route for this IP version
            continue
        if address not in found:
            found.append(address)
    return found


def egress_info() -> dict[str, object]:
    return {"egress_ips": egress_ips(), "region": os.environ.get("VOICETEST_REGION", "local"), "note": NOTE}
