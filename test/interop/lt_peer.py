#!/usr/bin/python3
"""A libtorrent peer driven over stdin/stdout, shared by the interop tests and the benchmark.

Modes:
  create <path> <torrent-out> [--pad] [--piece-length N]
      v1 .torrent of a file or folder, no trackers (default 1 MiB pieces). --pad makes libtorrent
      align every file to a piece with BEP47 pad files. Prints {"infoHash", "magnet", "libtorrentVersion"}.
  seed <torrent> <data-dir> [--dht host:port] [--lsd]
      checks the data, prints {"port": N, "infoHash"} once seeding, serves until stdin (a pipe) closes,
      it is killed, or the time limit passes.
  download <torrent|magnet> <dir> [<host:port>] [--dht host:port] [--lsd]
      connects to the peer, or finds peers through the DHT or LSD; with a magnet link the metadata
      comes from them over BEP9.
      Prints {"bytes", "seconds", "cpuSeconds", "peakRssBytes", "name", "clients", "dialled"} once
      every piece is verified; "clients" is how libtorrent identifies the peers it downloaded from,
      "dialled" every "host:port" it opened a connection to (the named peer, and the ones it found).
  dht-put <public-key hex> <seed hex> <text> --dht host:port [--salt hex]
      BEP44 put of the text (the 2.0.8 binding puts only strings) under the ed25519 key whose 32-byte
      seed is given; libtorrent takes the seq one above the highest it finds. Prints
      {"seq", "successes"} once stored on a node, then stays in the DHT until stdin closes.
  dht-get <public-key hex> --dht host:port [--salt hex] [--min-seq N]
      BEP44 get until an item with seq >= N (default 1) is found; prints {"seq", "signature" (hex),
      "rendered" (libtorrent's text form of the value)}. libtorrent checks the signature first, so
      a signature equal to the one the publisher made means libtorrent holds its exact value.

--utp-only (any mode) turns libtorrent's TCP off both ways and its uTP on, as a uTP-only client runs.

Run with Debian's /usr/bin/python3 so that the python3-libtorrent module is found.
Every setting is libtorrent's default except the ones in SETTINGS, which keep the run on TCP over
loopback with no discovery, so both sides talk only to each other. --dht joins a DHT through one
node (on loopback: no public bootstrap routers) and announces to it every few seconds. LT_PEER_LOG=1 writes peer
errors and disconnects to stderr; LT_PEER_LIMIT_S bounds every wait (BENCH_PEER_LIMIT_S is the
benchmark's older name for it).
"""

import hashlib
import json
import os
import resource
import select
import stat
import sys
import time

import libtorrent as lt

PIECE_SIZE = 1 << 20
WAIT_LIMIT_S = float(os.environ.get("LT_PEER_LIMIT_S", os.environ.get("BENCH_PEER_LIMIT_S", "600")))
LOG_PEERS = os.environ.get("LT_PEER_LOG") == "1"
DHT_ANNOUNCE_EVERY_S = 2.0
DHT_RETRY_S = 0.5

SETTINGS = {
    # LT_PEER_LISTEN="[::1]:0" keeps the peer, and its DHT, on IPv6 alone; the shaped benchmarks give each peer its namespace address.
    "listen_interfaces": os.environ.get("LT_PEER_LISTEN", "127.0.0.1:0"),
    "enable_outgoing_utp": False,
    "enable_incoming_utp": False,
    "enable_dht": False,
    "enable_lsd": False,
    "enable_upnp": False,
    "enable_natpmp": False,
    # Both peers share 127.0.0.1; without this libtorrent may refuse a second connection from it.
    "allow_multiple_connections_per_ip": True,
    "alert_mask": lt.alert.category_t.status_notification
    | lt.alert.category_t.error_notification
    | lt.alert.category_t.storage_notification
    | lt.alert.category_t.connect_notification
    | (lt.alert.category_t.peer_notification if LOG_PEERS else 0),
}

ENC_SETTINGS = {
    "forced": {"out_enc_policy": 0, "in_enc_policy": 0, "allowed_enc_level": 2},
    "enabled": {"out_enc_policy": 1, "in_enc_policy": 1, "allowed_enc_level": 3},
    "disabled": {"out_enc_policy": 2, "in_enc_policy": 2},
}


def fail(message):
    sys.stderr.write("lt_peer: " + message + "\n")
    sys.exit(1)


def emit(record):
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def check_alert(alert, what):
    """Fails on storage errors and on data that fails its hash: from a single peer that is its bug."""
    if isinstance(alert, (lt.file_error_alert, lt.torrent_error_alert)):
        fail(what + " storage error: " + alert.message())
    if isinstance(alert, lt.hash_failed_alert):
        fail(what + ": " + alert.message())
    if LOG_PEERS and isinstance(alert, (lt.peer_error_alert, lt.peer_disconnected_alert, lt.metadata_failed_alert)):
        sys.stderr.write("lt_peer: " + alert.message() + "\n")


def open_session(dht_node, lsd=False):
    """A session on loopback; with dht_node ("host:port") its DHT joins that node and no other.
    lsd looks for peers by multicast: run it only inside a network namespace, never where
    multicast can leave the machine."""
    settings = dict(SETTINGS)
    settings["enable_lsd"] = lsd
    # LT_PEER_ENC, both ways: forced: MSE/PE with RC4 only (pe_forced, pe_rc4), plain peers refused;
    # enabled: libtorrent's default (pe_enabled, pe_both); disabled: plain text only (pe_disabled).
    encryption = os.environ.get("LT_PEER_ENC")
    if encryption is not None:
        if encryption not in ENC_SETTINGS:
            fail("LT_PEER_ENC must be one of " + ", ".join(ENC_SETTINGS))
        settings.update(ENC_SETTINGS[encryption])
    if dht_node is not None:
        settings.update({"enable_dht": True, "dht_bootstrap_nodes": "", "dht_restrict_routing_ips": False,
                         "dht_restrict_search_ips": False,
                         "alert_mask": settings["alert_mask"] | lt.alert.category_t.dht_notification})
    ses = lt.session(settings)
    if dht_node is not None:
        ses.add_dht_node(parse_peer(dht_node))
    return ses


class Announcer:
    """Re-announces to the DHT every few seconds: the first announce may run before the DHT has
    any node. (session.dht_announce raises in the 2.0.8 binding; force_dht_announce works.)"""

    def __init__(self, handle, enabled):
        self.handle = handle
        self.enabled = enabled
        self.last = 0.0

    def tick(self):
        if self.enabled and time.monotonic() - self.last >= DHT_ANNOUNCE_EVERY_S:
            self.handle.force_dht_announce()
            self.last = time.monotonic()


def listen_port(ses, deadline):
    """The bound TCP port, from the listen alert (listen_port() is deprecated in 2.0)."""
    while time.monotonic() < deadline:
        if ses.wait_for_alert(100) is None:
            continue
        for alert in ses.pop_alerts():
            if isinstance(alert, lt.listen_failed_alert):
                fail("listen failed: " + alert.message())
            # TCP's alert; uTP-only sessions may report only the uTP socket, on the same port.
            if isinstance(alert, lt.listen_succeeded_alert) and alert.socket_type in (lt.socket_type_t.tcp, lt.socket_type_t.utp):
                return alert.port
    fail("no listen socket within %.0f s" % WAIT_LIMIT_S)


def load_torrent(path):
    try:
        return lt.torrent_info(path)
    except RuntimeError as err:
        fail("cannot read %s: %s" % (path, err))


def create(source, torrent_out, pad, piece_size):
    fs = lt.file_storage()
    lt.add_files(fs, os.path.abspath(source))
    # v1 only: libtorrent 2.0 makes hybrid v1+v2 torrents by default, and trackerless speaks v1.
    # canonical_files gives a v1 torrent the v2 layout: sorted files, each aligned by a pad file.
    flags = lt.create_torrent.v1_only | (lt.create_torrent.canonical_files if pad else 0)
    ct = lt.create_torrent(fs, piece_size, flags)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(source)))
    with open(torrent_out, "wb") as out:
        out.write(lt.bencode(ct.generate()))
    info = lt.torrent_info(torrent_out)
    emit({"infoHash": str(info.info_hash()), "magnet": lt.make_magnet_uri(info), "libtorrentVersion": lt.__version__})


def stdin_closed():
    """True once a piped stdin reaches EOF; a terminal or /dev/null stdin never counts as closed.
    Node's 'pipe' stdio is a socket pair, a shell's is a FIFO."""
    fd = sys.stdin.fileno()
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)):
        return False
    readable, _, _ = select.select([fd], [], [], 0)
    return bool(readable) and os.read(fd, 4096) == b""


def seed(torrent_path, data_dir, dht_node, lsd):
    ses = open_session(dht_node, lsd)
    deadline = time.monotonic() + WAIT_LIMIT_S
    port = listen_port(ses, deadline)
    params = lt.add_torrent_params()
    params.ti = load_torrent(torrent_path)
    params.save_path = data_dir
    # Without resume data libtorrent checks every piece on disk, so "seeding" means verified data.
    if os.environ.get("LT_SUPER_SEED") == "1":
        params.flags |= lt.torrent_flags.super_seeding
    handle = ses.add_torrent(params)
    checked = False
    while not checked and time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            check_alert(alert, "seed")
            if isinstance(alert, lt.torrent_checked_alert):
                checked = True
    if not checked:
        fail("data not checked within %.0f s" % WAIT_LIMIT_S)
    status = handle.status()
    if not status.is_seeding:
        fail("data in %s does not match %s (%.1f%% verified)" % (data_dir, torrent_path, status.progress * 100))
    emit({"port": port, "infoHash": str(params.ti.info_hash())})
    announcer = Announcer(handle, dht_node is not None)
    # Alerts are drained so that the queue stays bounded.
    while time.monotonic() < deadline and not stdin_closed():
        announcer.tick()
        ses.wait_for_alert(200)
        for alert in ses.pop_alerts():
            check_alert(alert, "seed")


def parse_peer(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        fail("peer must be host:port, got " + text)
    return host.strip("[]"), int(port)


def download(source, download_dir, peer, dht_node, lsd):
    ses = open_session(dht_node, lsd)
    deadline = time.monotonic() + WAIT_LIMIT_S
    listen_port(ses, deadline)
    if source.startswith("magnet:"):
        params = lt.parse_magnet_uri(source)
    else:
        params = lt.add_torrent_params()
        params.ti = load_torrent(source)
    params.save_path = download_dir
    started = time.monotonic()
    handle = ses.add_torrent(params)
    if peer is not None:
        handle.connect_peer(parse_peer(peer))
    announcer = Announcer(handle, dht_node is not None)
    finished = None
    clients = set()
    dialled = set()
    while finished is None and time.monotonic() < deadline:
        announcer.tick()
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            check_alert(alert, "download")
            if isinstance(alert, lt.torrent_finished_alert):
                finished = time.monotonic()
            if isinstance(alert, lt.peer_connect_alert) and "incoming" not in alert.message():
                dialled.add("%s:%d" % tuple(alert.ip))
        # Read while downloading: once finished, libtorrent drops its connections to seeds.
        for p in handle.get_peer_info():
            if not p.pid.is_all_zeros():
                clients.add((p.client.decode("utf-8", "replace"), lt.identify_client(p.pid)))
    if finished is None:
        status = handle.status()
        fail("download not finished within %.0f s (metadata: %s, %.1f%% done, %d peers)"
             % (WAIT_LIMIT_S, status.has_metadata, status.progress * 100, status.num_peers))
    # torrent_finished_alert can come while the last blocks still sit in libtorrent's store buffer
    # (it hashes them there): flush, so that whoever reads the files after our line finds them.
    handle.flush_cache()
    flushed = False
    while not flushed and time.monotonic() < deadline:
        ses.wait_for_alert(100)
        flushed = any(isinstance(alert, lt.cache_flushed_alert) for alert in ses.pop_alerts())
    if not flushed:
        fail("the downloaded files were not flushed to disk within %.0f s" % WAIT_LIMIT_S)
    info = handle.torrent_file()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    emit({
        "bytes": info.total_size(),
        "seconds": finished - started,
        "cpuSeconds": usage.ru_utime + usage.ru_stime,
        # ru_maxrss is in KiB on Linux.
        "peakRssBytes": usage.ru_maxrss * 1024,
        "name": info.name(),
        # How libtorrent names the peers it downloaded from: by 'v' of the extended handshake, and
        # by the peer id alone.
        "clients": [{"name": name, "byPeerId": by_id} for name, by_id in sorted(clients)],
        "dialled": sorted(dialled),
    })


def secret_key(seed):
    """libtorrent's 64-byte ed25519 secret key: SHA-512 of the seed with its scalar half clamped,
    then the nonce half (libsodium's form is the seed, then the public key)."""
    digest = bytearray(hashlib.sha512(seed).digest())
    digest[0] &= 248
    digest[31] &= 63
    digest[31] |= 64
    return bytes(digest)


def hex_arg(text, size, what):
    try:
        value = bytes.fromhex(text)
    except ValueError:
        fail(what + " must be hex")
    if size is not None and len(value) != size:
        fail("%s must be %d bytes, got %d" % (what, size, len(value)))
    return value


def dht_put(public_key, seed_bytes, text, salt, dht_node):
    ses = open_session(dht_node)
    deadline = time.monotonic() + WAIT_LIMIT_S
    stored = None
    while stored is None and time.monotonic() < deadline:
        # The first put may run before the DHT knows any node; a put no node took is made again.
        ses.dht_put_mutable_item(secret_key(seed_bytes), public_key, text.encode("utf-8"), salt)
        answered = False
        while not answered and time.monotonic() < deadline:
            ses.wait_for_alert(100)
            for alert in ses.pop_alerts():
                if isinstance(alert, lt.dht_put_alert):
                    answered = True
                    if alert.num_success > 0:
                        stored = {"seq": alert.seq, "successes": alert.num_success}
        if stored is None:
            time.sleep(DHT_RETRY_S)
    if stored is None:
        fail("no DHT node stored the item within %.0f s" % WAIT_LIMIT_S)
    emit(stored)
    while time.monotonic() < deadline and not stdin_closed():
        ses.wait_for_alert(200)
        ses.pop_alerts()


def rendered_value(alert):
    """libtorrent's rendering of the item's value (binary strings as hex), from the alert's message:
    the 2.0.8 binding's alert.item converts only string values and raises on a dictionary."""
    message = alert.message()
    start = message.find(") [ ")
    return message[start + 4:].removesuffix(" ]") if start != -1 else message


def dht_get(public_key, salt, min_seq, dht_node):
    ses = open_session(dht_node)
    deadline = time.monotonic() + WAIT_LIMIT_S
    while time.monotonic() < deadline:
        ses.dht_get_mutable_item(public_key, salt)
        done = False
        while not done and time.monotonic() < deadline:
            ses.wait_for_alert(100)
            for alert in ses.pop_alerts():
                # Alerts come as answers arrive; the authoritative one ends the lookup.
                if not isinstance(alert, lt.dht_mutable_item_alert) or not alert.authoritative:
                    continue
                done = True
                if alert.seq >= min_seq:
                    emit({"seq": alert.seq, "signature": bytes(alert.signature).hex(), "rendered": rendered_value(alert)})
                    return
        time.sleep(DHT_RETRY_S)
    fail("no item with seq >= %d within %.0f s" % (min_seq, WAIT_LIMIT_S))


def take_option(args, name):
    """Removes `name VALUE` from args and returns VALUE, or None when absent."""
    if name not in args:
        return None
    at = args.index(name)
    if at + 1 >= len(args):
        fail(name + " needs a value")
    value = args[at + 1]
    del args[at:at + 2]
    return value


def main(argv):
    args = list(argv)
    pad = take_flag(args, "--pad")
    if take_flag(args, "--utp-only"):
        SETTINGS.update({"enable_outgoing_tcp": False, "enable_incoming_tcp": False,
                         "enable_outgoing_utp": True, "enable_incoming_utp": True})
    lsd = take_flag(args, "--lsd")
    piece_size = take_option(args, "--piece-length")
    dht_node = take_option(args, "--dht")
    salt = hex_arg(take_option(args, "--salt") or "", None, "--salt")
    min_seq = take_option(args, "--min-seq") or "1"
    if piece_size is not None and not piece_size.isdigit():
        fail("--piece-length needs a number of bytes")
    if not min_seq.isdigit():
        fail("--min-seq needs a number")
    if len(args) == 3 and args[0] == "create":
        create(args[1], args[2], pad, int(piece_size) if piece_size else PIECE_SIZE)
    elif len(args) == 3 and args[0] == "seed":
        seed(args[1], args[2], dht_node, lsd)
    elif len(args) in (3, 4) and args[0] == "download" and (len(args) == 4 or dht_node is not None or lsd):
        download(args[1], args[2], args[3] if len(args) == 4 else None, dht_node, lsd)
    elif len(args) == 4 and args[0] == "dht-put" and dht_node is not None:
        dht_put(hex_arg(args[1], 32, "public key"), hex_arg(args[2], 32, "seed"), args[3], salt, dht_node)
    elif len(args) == 2 and args[0] == "dht-get" and dht_node is not None:
        dht_get(hex_arg(args[1], 32, "public key"), salt, int(min_seq), dht_node)
    else:
        fail("usage: create <path> <torrent-out> [--pad] [--piece-length N]"
             " | seed <torrent> <data-dir> [--dht host:port] [--lsd]"
             " | download <torrent|magnet> <dir> [<host:port>] [--dht host:port] [--lsd]"
             " | dht-put <public-key hex> <seed hex> <text> --dht host:port [--salt hex]"
             " | dht-get <public-key hex> --dht host:port [--salt hex] [--min-seq N]")


def take_flag(args, name):
    """Removes `name` from args; True when it was there."""
    if name not in args:
        return False
    args.remove(name)
    return True


if __name__ == "__main__":
    main(sys.argv[1:])
