#!/usr/bin/python3
"""libtorrent side of the discovery benchmark (bench/discovery.ts runs it).

  lt-magnet.py <dht-node-port> <infohash>

Joins a loopback DHT through 127.0.0.1:<dht-node-port> only, adds a magnet link of the bare
infohash at once and prints {"seconds": magnet -> metadata, "withSession": counting the session's creation}.
Run with Debian's /usr/bin/python3 so that the python3-libtorrent module is found.
"""

import json
import sys
import time

import libtorrent as lt

LIMIT_S = 30.0


def fail(message):
    sys.stderr.write("lt-magnet: " + message + "\n")
    sys.exit(1)


def main(port, info_hash):
    created = time.monotonic()
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        "dht_bootstrap_nodes": "",
        # Every node of the benchmark's DHT is on 127.0.0.1: by default libtorrent keeps one per IP.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.dht_notification
        | lt.alert.category_t.error_notification,
    })
    ses.add_dht_node(("127.0.0.1", port))
    deadline = created + LIMIT_S
    params = lt.parse_magnet_uri("magnet:?xt=urn:btih:" + info_hash)
    params.save_path = "/tmp"
    params.flags |= lt.torrent_flags.upload_mode
    # As the trackerless client does: the magnet goes in at once, while the DHT is joined.
    started = time.monotonic()
    handle = ses.add_torrent(params)
    handle.force_dht_announce()
    while time.monotonic() < deadline:
        ses.wait_for_alert(20)
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.metadata_received_alert):
                now = time.monotonic()
                print(json.dumps({"seconds": now - started, "withSession": now - created}))
                return
    fail("no metadata within %.0f s" % LIMIT_S)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail("usage: lt-magnet.py <dht-node-port> <infohash>")
    main(int(sys.argv[1]), sys.argv[2])
