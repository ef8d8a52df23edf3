#!/usr/bin/python3
"""A libtorrent peer that reports what it sees of one other peer, for the BEP21 upload_only tests.

  watch <torrent> <save-dir> <host:port|-> [--upload-mode]
      adds the torrent (checking what <save-dir> holds), connects to the peer, prints {"port"} once
      listening, then one line each time the peer's state changes: {"peer", "uploadOnly", "seed",
      "interesting"} from libtorrent's peer_info flags, and {"disconnected", "message"} when a
      connection ends. --upload-mode sets torrent_flags.upload_mode: libtorrent then says
      upload_only to its peers. Runs until stdin closes or the time limit passes.

Run with /usr/bin/python3; the session settings are lt_peer.py's (TCP on loopback, no discovery).
"""

import sys
import time

import libtorrent as lt

from lt_peer import WAIT_LIMIT_S, check_alert, emit, fail, listen_port, load_torrent, open_session, parse_peer, stdin_closed


def watch(torrent_path, save_dir, peer, upload_mode):
    ses = open_session(None)
    deadline = time.monotonic() + WAIT_LIMIT_S
    port = listen_port(ses, deadline)
    params = lt.add_torrent_params()
    params.ti = load_torrent(torrent_path)
    params.save_path = save_dir
    if upload_mode:
        params.flags |= lt.torrent_flags.upload_mode
    handle = ses.add_torrent(params)
    emit({"port": port})
    if peer != "-":
        handle.connect_peer(parse_peer(peer))
    last = {}
    while time.monotonic() < deadline and not stdin_closed():
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            check_alert(alert, "watch")
            if isinstance(alert, lt.peer_disconnected_alert):
                emit({"disconnected": "%s:%d" % tuple(alert.ip), "message": alert.message()})
        for p in handle.get_peer_info():
            state = {
                "peer": "%s:%d" % tuple(p.ip),
                "uploadOnly": bool(p.flags & lt.peer_info.upload_only),
                "seed": bool(p.flags & lt.peer_info.seed),
                "interesting": bool(p.flags & lt.peer_info.interesting),
            }
            if last.get(state["peer"]) != state:
                last[state["peer"]] = state
                emit(state)


def main(argv):
    args = list(argv)
    upload_mode = "--upload-mode" in args
    if upload_mode:
        args.remove("--upload-mode")
    if len(args) != 4 or args[0] != "watch":
        fail("usage: watch <torrent> <save-dir> <host:port|-> [--upload-mode]")
    watch(args[1], args[2], args[3], upload_mode)


if __name__ == "__main__":
    main(sys.argv[1:])
