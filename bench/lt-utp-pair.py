#!/usr/bin/python3
"""libtorrent to libtorrent over uTP on loopback, both sessions in this one process (as bench/utp.ts
runs both of our ends in one), TCP off: the reference rate of issue 21's "≥ 10x libtorrent's uTP".

  lt-utp-pair.py <MiB>

Writes a file of that size in a temporary directory, seeds it from one session, fetches it with the
other, and prints {"mbps", "cpuSecondsPerGiB"} timed from adding the torrent to the last piece
verified. The session settings are test/interop/lt_peer.py's with --utp-only. Run with Debian's
/usr/bin/python3.
"""

import json
import os
import resource
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "interop"))

import lt_peer  # noqa: E402  (found through the path above)
import libtorrent as lt  # noqa: E402


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(argv):
    mib = int(argv[0]) if argv else 256
    lt_peer.SETTINGS.update({"enable_outgoing_tcp": False, "enable_incoming_tcp": False,
                             "enable_outgoing_utp": True, "enable_incoming_utp": True})
    work = tempfile.mkdtemp(prefix="lt-utp-pair-")
    try:
        src = os.path.join(work, "src")
        os.mkdir(src)
        with open(os.path.join(src, "data.bin"), "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1 << 20))
        fs = lt.file_storage()
        lt.add_files(fs, os.path.join(src, "data.bin"))
        ct = lt.create_torrent(fs, lt_peer.PIECE_SIZE, lt.create_torrent.v1_only)
        lt.set_piece_hashes(ct, src)
        info = lt.torrent_info(lt.bencode(ct.generate()))
        deadline = time.monotonic() + lt_peer.WAIT_LIMIT_S
        seeder = lt_peer.open_session(None)
        port = lt_peer.listen_port(seeder, deadline)
        seeder.add_torrent({"ti": info, "save_path": src})
        leecher = lt_peer.open_session(None)
        lt_peer.listen_port(leecher, deadline)
        cpu0, t0 = cpu_seconds(), time.monotonic()
        handle = leecher.add_torrent({"ti": lt.torrent_info(info), "save_path": os.path.join(work, "out")})
        handle.connect_peer(("127.0.0.1", port))
        while not handle.status().is_seeding:
            if time.monotonic() > deadline:
                lt_peer.fail("not finished within %.0f s" % lt_peer.WAIT_LIMIT_S)
            leecher.wait_for_alert(100)
            leecher.pop_alerts()
            seeder.pop_alerts()
        seconds, cpu = time.monotonic() - t0, cpu_seconds() - cpu0
        lt_peer.emit({"mbps": round(mib * (1 << 20) / 1e6 / seconds, 1),
                      "cpuSecondsPerGiB": round(cpu * 1024 / mib, 1)})
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
