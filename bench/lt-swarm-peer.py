#!/usr/bin/python3
"""A libtorrent downloader in a swarm (bench/swarm.ts runs it; its seeder is test/interop/lt_peer.py seed).

  lt-swarm-peer.py <torrent> <dir> [--utp-only]

Prints {"port": N} once listening, reads one line {"peers": ["host:port", ...]} on stdin, connects
to every one of them and prints {"bytes", "seconds", "cpuSeconds", "peakRssBytes"} once every piece
is verified, timed from adding the torrent. It then keeps serving the swarm until stdin closes or
the time limit passes. The session settings are lt_peer.py's: libtorrent's defaults with TCP on
127.0.0.1 only and no DHT, LSD, UPnP or NAT-PMP. Run with Debian's /usr/bin/python3.
"""

import json
import os
import resource
import select
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "interop"))

import lt_peer  # noqa: E402  (found through the path above)
import libtorrent as lt  # noqa: E402


def read_line(deadline):
    """One line from stdin, waiting at most until the deadline."""
    fd = sys.stdin.fileno()
    data = b""
    while b"\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            lt_peer.fail("no peers on stdin within %.0f s" % lt_peer.WAIT_LIMIT_S)
        readable, _, _ = select.select([fd], [], [], remaining)
        if readable:
            chunk = os.read(fd, 65536)
            if chunk == b"":
                lt_peer.fail("stdin closed before the peers arrived")
            data += chunk
    return data.split(b"\n", 1)[0].decode("utf-8")


def main(argv):
    args = list(argv)
    if lt_peer.take_flag(args, "--utp-only"):
        lt_peer.SETTINGS.update({"enable_outgoing_tcp": False, "enable_incoming_tcp": False,
                                 "enable_outgoing_utp": True, "enable_incoming_utp": True})
    if len(args) != 2:
        lt_peer.fail("usage: lt-swarm-peer.py <torrent> <dir> [--utp-only]")
    torrent_path, download_dir = args
    ses = lt_peer.open_session(None)
    deadline = time.monotonic() + lt_peer.WAIT_LIMIT_S
    lt_peer.emit({"port": lt_peer.listen_port(ses, deadline)})
    peers = json.loads(read_line(deadline))["peers"]
    params = lt.add_torrent_params()
    params.ti = lt_peer.load_torrent(torrent_path)
    params.save_path = download_dir
    started = time.monotonic()
    handle = ses.add_torrent(params)
    for peer in peers:
        handle.connect_peer(lt_peer.parse_peer(peer))
    finished = None
    while finished is None and time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            lt_peer.check_alert(alert, "download")
            if isinstance(alert, lt.torrent_finished_alert):
                finished = time.monotonic()
    if finished is None:
        status = handle.status()
        lt_peer.fail("download not finished within %.0f s (%.1f%% done, %d peers)"
                     % (lt_peer.WAIT_LIMIT_S, status.progress * 100, status.num_peers))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    lt_peer.emit({
        "bytes": params.ti.total_size(),
        "seconds": finished - started,
        "cpuSeconds": usage.ru_utime + usage.ru_stime,
        # ru_maxrss is in KiB on Linux.
        "peakRssBytes": usage.ru_maxrss * 1024,
    })
    # Keep uploading to the downloaders still at work; alerts are drained so the queue stays bounded.
    while time.monotonic() < deadline and not lt_peer.stdin_closed():
        ses.wait_for_alert(200)
        for alert in ses.pop_alerts():
            lt_peer.check_alert(alert, "serve")


if __name__ == "__main__":
    main(sys.argv[1:])
