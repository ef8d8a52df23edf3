#!/usr/bin/python3
"""libtorrent side of the throughput benchmark (bench/throughput.ts runs it).

Modes:
  create <file> <torrent-out>            v1 single-file .torrent, 1 MiB pieces, no trackers
  seed <torrent> <data-dir>              checks the data, prints {"port": N} once seeding, runs until killed
  download <torrent> <dir> <host:port>   prints {"bytes", "seconds", "cpuSeconds", "peakRssBytes"}

Run with Debian's /usr/bin/python3 so that the python3-libtorrent module is found.
Every setting is libtorrent's default except the ones in BENCH_SETTINGS, which keep the run on
TCP over loopback with no discovery, so both sides talk only to each other.
"""

import json
import os
import resource
import sys
import time

import libtorrent as lt

PIECE_SIZE = 1 << 20
# Bounds every wait so that a stuck peer never hangs the benchmark; the orchestrator has its own.
WAIT_LIMIT_S = float(os.environ.get("BENCH_PEER_LIMIT_S", "600"))

BENCH_SETTINGS = {
    "listen_interfaces": "127.0.0.1:0",
    "enable_outgoing_utp": False,
    "enable_incoming_utp": False,
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    "alert_mask": lt.alert.category_t.status_notification
    | lt.alert.category_t.error_notification
    | lt.alert.category_t.storage_notification,
}


def fail(message):
    sys.stderr.write("libtorrent-peer: " + message + "\n")
    sys.exit(1)


def emit(record):
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def open_session():
    return lt.session(BENCH_SETTINGS)


def listen_port(ses, deadline):
    """The bound TCP port, from the listen alert (listen_port() is deprecated in 2.0)."""
    while time.monotonic() < deadline:
        if ses.wait_for_alert(100) is None:
            continue
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.listen_failed_alert):
                fail("listen failed: " + alert.message())
            if isinstance(alert, lt.listen_succeeded_alert) and alert.socket_type == lt.socket_type_t.tcp:
                return alert.port
    fail("no listen socket within %.0f s" % WAIT_LIMIT_S)


def load_torrent(path):
    try:
        return lt.torrent_info(path)
    except RuntimeError as err:
        fail("cannot read %s: %s" % (path, err))


def create(data_file, torrent_out):
    fs = lt.file_storage()
    lt.add_files(fs, os.path.abspath(data_file))
    # v1 only: libtorrent 2.0 makes hybrid v1+v2 torrents by default, and trackerless speaks v1.
    ct = lt.create_torrent(fs, PIECE_SIZE, lt.create_torrent.v1_only)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(data_file)))
    with open(torrent_out, "wb") as out:
        out.write(lt.bencode(ct.generate()))
    emit({"infoHash": str(lt.torrent_info(torrent_out).info_hash()), "libtorrentVersion": lt.__version__})


def seed(torrent_path, data_dir):
    ses = open_session()
    deadline = time.monotonic() + WAIT_LIMIT_S
    port = listen_port(ses, deadline)
    params = lt.add_torrent_params()
    params.ti = load_torrent(torrent_path)
    params.save_path = data_dir
    # Without resume data libtorrent checks every piece on disk, so "seeding" means verified data.
    handle = ses.add_torrent(params)
    checked = False
    while not checked and time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            if isinstance(alert, (lt.file_error_alert, lt.torrent_error_alert)):
                fail("seed storage error: " + alert.message())
            if isinstance(alert, lt.torrent_checked_alert):
                checked = True
    if not checked:
        fail("data not checked within %.0f s" % WAIT_LIMIT_S)
    status = handle.status()
    if not status.is_seeding:
        fail("data in %s does not match %s (%.1f%% verified)" % (data_dir, torrent_path, status.progress * 100))
    emit({"port": port})
    # Serve until the orchestrator kills us; alerts are drained so the queue stays bounded.
    while True:
        ses.wait_for_alert(1000)
        ses.pop_alerts()


def parse_peer(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        fail("peer must be host:port, got " + text)
    return host, int(port)


def download(torrent_path, download_dir, peer):
    ses = open_session()
    deadline = time.monotonic() + WAIT_LIMIT_S
    listen_port(ses, deadline)
    info = load_torrent(torrent_path)
    params = lt.add_torrent_params()
    params.ti = info
    params.save_path = download_dir
    started = time.monotonic()
    handle = ses.add_torrent(params)
    handle.connect_peer(parse_peer(peer))
    finished = None
    while finished is None and time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            if isinstance(alert, (lt.file_error_alert, lt.torrent_error_alert)):
                fail("download storage error: " + alert.message())
            if isinstance(alert, lt.torrent_finished_alert):
                finished = time.monotonic()
    if finished is None:
        fail("download not finished within %.0f s" % WAIT_LIMIT_S)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    emit({
        "bytes": info.total_size(),
        "seconds": finished - started,
        "cpuSeconds": usage.ru_utime + usage.ru_stime,
        # ru_maxrss is in KiB on Linux.
        "peakRssBytes": usage.ru_maxrss * 1024,
    })


def main(argv):
    if len(argv) == 3 and argv[0] == "create":
        create(argv[1], argv[2])
    elif len(argv) == 3 and argv[0] == "seed":
        seed(argv[1], argv[2])
    elif len(argv) == 4 and argv[0] == "download":
        download(argv[1], argv[2], argv[3])
    else:
        fail("usage: create <file> <torrent-out> | seed <torrent> <data-dir> | download <torrent> <dir> <host:port>")


if __name__ == "__main__":
    main(sys.argv[1:])
