import net from 'node:net'
import WebTorrent from 'webtorrent'

/**
 * A WebTorrent client with every discovery off, listening on 127.0.0.1 only. WebTorrent has no
 * bind-address option and calls listen(port, callback) synchronously in its constructor, so
 * that one call is given the address while the client is built.
 */
export function loopbackWebTorrent (): WebTorrent {
  const listen = net.Server.prototype.listen
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]): net.Server {
    if (typeof args[0] === 'number' && typeof args[1] === 'function') args.splice(1, 0, '127.0.0.1')
    return Reflect.apply(listen, this, args) as net.Server
  }
  try {
    return new WebTorrent({ dht: false, tracker: false, lsd: false, utp: false, natUpnp: false, natPmp: false, webSeeds: false })
  } finally {
    net.Server.prototype.listen = listen
  }
}
