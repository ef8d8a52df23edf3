#!/usr/bin/python3
"""libtorrent in the NAT lab, driven over stdin/stdout; runs inside a lab namespace (`ip netns exec`).
Built on lt_peer.py (its sessions, alerts and output), with what the lab needs on top.

Modes:
  seed <torrent> <data-dir> [--dht host:port] [--map] [--connect host:port]
      checks the data, prints {"port", "infoHash"} once seeding; --map turns libtorrent's own port
      mapping on (UPnP and NAT-PMP) and prints {"portmap": {"transport", "protocol", "externalPort"}}
      for every mapping the router made and {"portmapError": message} for every one it refused;
      --connect dials that peer (a relay) once seeding. Serves until stdin closes.
  relay <magnet> <dir>
      joins the torrent in upload mode (no pieces) with no peers (peers dial it); prints {"port"}, then
      {"connected": "host:port"} for each peer that connects, as libtorrent sees its endpoint.

--utp-only as in lt_peer.py. LT_PEER_LISTEN sets the listen address (use the namespace's, or
0.0.0.0:0 behind a router, where libtorrent's UPnP looks for it on the LAN).
"""

import sys
import time

import libtorrent as lt

import lt_peer as base


def session(dht_node, port_mapping):
    base.SETTINGS["enable_upnp"] = port_mapping
    base.SETTINGS["enable_natpmp"] = port_mapping
    if port_mapping:
        base.SETTINGS["alert_mask"] |= lt.alert.category_t.port_mapping_notification
    return base.open_session(dht_node)


def portmap_record(alert):
    """What a port mapping alert says, or None. The 2.0.8 binding cannot read map_protocol or
    map_transport (an ArgumentError): the message says them."""
    if isinstance(alert, lt.portmap_alert):
        message = alert.message()
        return {"portmap": {"protocol": "tcp" if "TCP" in message else "udp", "externalPort": alert.external_port,
                            "message": message}}
    if isinstance(alert, lt.portmap_error_alert):
        return {"portmapError": alert.message()}
    return None


def seed(torrent_path, data_dir, dht_node, port_mapping, connect):
    ses = session(dht_node, port_mapping)
    deadline = time.monotonic() + base.WAIT_LIMIT_S
    port = base.listen_port(ses, deadline)
    params = lt.add_torrent_params()
    params.ti = base.load_torrent(torrent_path)
    params.save_path = data_dir
    handle = ses.add_torrent(params)
    # Records, not alerts: an alert is freed at the next pop_alerts().
    pending = []
    while not handle.status().is_seeding and time.monotonic() < deadline:
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            base.check_alert(alert, "seed")
            pending.append(portmap_record(alert))
    if not handle.status().is_seeding:
        base.fail("data in %s does not match %s" % (data_dir, torrent_path))
    base.emit({"port": port, "infoHash": str(params.ti.info_hash())})
    for record in pending:
        if record is not None:
            base.emit(record)
    if connect is not None:
        handle.connect_peer(base.parse_peer(connect))
    announcer = base.Announcer(handle, dht_node is not None)
    while time.monotonic() < deadline and not base.stdin_closed():
        announcer.tick()
        ses.wait_for_alert(200)
        for alert in ses.pop_alerts():
            base.check_alert(alert, "seed")
            record = portmap_record(alert)
            if record is not None:
                base.emit(record)


def relay(magnet, directory):
    # In upload mode libtorrent would drop the seeder as a redundant upload-to-upload connection.
    base.SETTINGS["close_redundant_connections"] = False
    ses = session(None, False)
    deadline = time.monotonic() + base.WAIT_LIMIT_S
    port = base.listen_port(ses, deadline)
    params = lt.parse_magnet_uri(magnet)
    params.save_path = directory
    # Upload mode: it fetches the metadata but no piece, so that whatever the leecher gets comes
    # from the seeder behind the NAT.
    params.flags |= lt.torrent_flags.upload_mode
    handle = ses.add_torrent(params)
    base.emit({"port": port})
    seen = set()
    while time.monotonic() < deadline and not base.stdin_closed():
        ses.wait_for_alert(100)
        for alert in ses.pop_alerts():
            base.check_alert(alert, "relay")
        for p in handle.get_peer_info():
            endpoint = "%s:%d" % tuple(p.ip)
            if endpoint not in seen:
                seen.add(endpoint)
                base.emit({"connected": endpoint})


def main(argv):
    args = list(argv)
    if base.take_flag(args, "--utp-only"):
        base.SETTINGS.update({"enable_outgoing_tcp": False, "enable_incoming_tcp": False,
                              "enable_outgoing_utp": True, "enable_incoming_utp": True})
    port_mapping = base.take_flag(args, "--map")
    dht_node = base.take_option(args, "--dht")
    connect = base.take_option(args, "--connect")
    if len(args) == 3 and args[0] == "seed":
        seed(args[1], args[2], dht_node, port_mapping, connect)
    elif len(args) == 3 and args[0] == "relay":
        relay(args[1], args[2])
    else:
        base.fail("usage: seed <torrent> <data-dir> [--dht host:port] [--map] [--connect host:port]"
                  " | relay <magnet> <dir>   [--utp-only]")


if __name__ == "__main__":
    main(sys.argv[1:])
