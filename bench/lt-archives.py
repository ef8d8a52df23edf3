#!/usr/bin/python3
"""libtorrent side of the scale benchmark (bench/scale-archives.ts runs it with BENCH_CLIENTS=lt).

  lt-archives.py <bootstrap host:port> <dir> <count>

Seeds <dir>/torrents/<i>.torrent (i = 0 .. count-1) from <dir>/data/<i>/ with one libtorrent 2.0.8
session whose DHT knows only the local bootstrap node: `dht_bootstrap_nodes` is set to it when the
session is made, so libtorrent's default router (dht.libtorrent.org:25401) is never asked. Only the
one node, as the trackerless seeder is given: libtorrent treats its bootstrap nodes as routers,
which it never adds to its routing table, so listing every local node leaves the table empty. Every
other setting is libtorrent's default, in particular `dht_announce_interval` (900 s) and
`dht_upload_rate_limit` (8,000 B/s), except what a loopback DHT needs (20 nodes on one IP).

Prints one JSON line once every torrent is added and seeding: {"baselineRssBytes", "rssBytes",
"seedSeconds", "infoHashes"} (RSS from /proc/self/status before and after adding them). Then, for
every line read on stdin, one line {"rssBytes", "counters": the session's dht.* counters, "sentTo":
DHT packets sent so far per "host:port"}. Exits when
stdin ends. Run with Debian's /usr/bin/python3 so that the python3-libtorrent module is found.
"""

import json
import os
import select
import sys
import time

import libtorrent as lt

LIMIT_S = float(os.environ.get("BENCH_PEER_LIMIT_S", "300"))
COUNTERS = ["dht.dht_messages_out", "dht.dht_messages_out_dropped", "dht.dht_bytes_out", "dht.dht_messages_in",
            "dht.dht_get_peers_out", "dht.dht_announce_peer_out", "dht.dht_find_node_out", "dht.dht_ping_out",
            "dht.dht_nodes"]


def fail(message):
    sys.stderr.write("lt-archives: " + message + "\n")
    sys.exit(1)


def rss_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    fail("no VmRSS in /proc/self/status")


def emit(record):
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


class Session:
    """The session's alerts: the dht.* counters of the last session_stats_alert, and every
    outgoing DHT packet counted by destination (dht_pkt_alert, whose Python binding gives the
    destination only in its message: "==> [host:port] ...")."""

    def __init__(self, ses):
        self.ses = ses
        self.stats = None
        self.sent_to = {}

    def drain(self, wait_ms):
        self.ses.wait_for_alert(wait_ms)
        for alert in self.ses.pop_alerts():
            if isinstance(alert, lt.dht_pkt_alert):
                message = alert.message()
                if message.startswith("==> ["):
                    node = message[5:message.index("]")]
                    self.sent_to[node] = self.sent_to.get(node, 0) + 1
            elif isinstance(alert, lt.session_stats_alert):
                # The Python binding gives the values by metric name.
                self.stats = {name: alert.values[name] for name in COUNTERS}

    def counters(self, deadline):
        self.stats = None
        self.ses.post_session_stats()
        while self.stats is None:
            if time.monotonic() > deadline:
                fail("no session_stats_alert before the deadline")
            self.drain(100)
        return self.stats


def main(bootstrap, directory, count):
    deadline = time.monotonic() + LIMIT_S
    ses = lt.session({
        "listen_interfaces": "127.0.0.1:0",
        "enable_dht": True,
        # The local node replaces libtorrent's default router before the DHT starts.
        "dht_bootstrap_nodes": bootstrap,
        # Every node of the benchmark's DHT is on 127.0.0.1: by default libtorrent keeps one per IP.
        "dht_restrict_routing_ips": False,
        "dht_restrict_search_ips": False,
        # libtorrent drops every DHT packet from an IP that sends more than 5 a second, for 5 min
        # (its DoS blocker, meant for one node per IP): here 20 nodes answer from 127.0.0.1.
        "dht_block_ratelimit": 1000000,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "alert_mask": lt.alert.category_t.status_notification | lt.alert.category_t.error_notification
        | lt.alert.category_t.dht_log_notification | lt.alert.category_t.stats_notification,
        # Popped every 0.2 s at most; the queue must hold the DHT log of a start-up second.
        "alert_queue_size": 100000,
    })
    if ses.get_settings()["dht_bootstrap_nodes"] != bootstrap:
        fail("dht_bootstrap_nodes was not taken: " + ses.get_settings()["dht_bootstrap_nodes"])
    session = Session(ses)
    # As the trackerless seeder, whose baseline is taken after start() (its DHT joined).
    while session.counters(deadline)["dht.dht_nodes"] == 0:
        if time.monotonic() > deadline:
            fail("the DHT found no node")
        session.drain(100)
    baseline = rss_bytes()
    started = time.monotonic()
    handles = []
    info_hashes = []
    for i in range(count):
        info = lt.torrent_info(os.path.join(directory, "torrents", "%d.torrent" % i))
        params = lt.add_torrent_params()
        params.ti = info
        params.save_path = os.path.join(directory, "data", str(i))
        # seed_mode: the data is ours, no check. Not auto-managed: libtorrent would otherwise keep
        # `active_seeds` (5) of them running and announce at most `active_dht_limit` (88).
        params.flags = (params.flags | lt.torrent_flags.seed_mode) & ~lt.torrent_flags.auto_managed & ~lt.torrent_flags.paused
        handles.append(ses.add_torrent(params))
        info_hashes.append(str(info.info_hashes().v1))
    while any(not h.status().is_seeding for h in handles):
        if time.monotonic() > deadline:
            fail("not every torrent seeds within %.0f s" % LIMIT_S)
        session.drain(100)
    seed_seconds = time.monotonic() - started
    emit({"baselineRssBytes": baseline, "rssBytes": rss_bytes(), "seedSeconds": seed_seconds, "infoHashes": info_hashes})
    while True:
        ready, _, _ = select.select([sys.stdin], [], [], 0.2)
        session.drain(0)
        if not ready:
            continue
        if sys.stdin.readline() == "":
            break
        emit({"rssBytes": rss_bytes(), "counters": session.counters(time.monotonic() + 10), "sentTo": session.sent_to,
              "self": "127.0.0.1:%d" % ses.listen_port()})


if __name__ == "__main__":
    if len(sys.argv) != 4:
        fail("usage: lt-archives.py <bootstrap host:port> <dir> <count>")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
