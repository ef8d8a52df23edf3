var socket = require('k-rpc-socket')
var KBucket = require('k-bucket')
var events = require('events')
var dgram = require('dgram')
var dns = require('dns')
var net = require('net')
var randombytes = require('randombytes')
var util = require('util')

var K = 20
var MAX_CONCURRENCY = 16
var BOOTSTRAP_NODES = [
  { host: 'router.bittorrent.com', port: 6881 },
  { host: 'router.utorrent.com', port: 6881 },
  { host: 'dht.transmissionbt.com', port: 6881 }
]

module.exports = RPC

function RPC (opts) {
  if (!(this instanceof RPC)) return new RPC(opts)
  if (!opts) opts = {}

  var self = this

  this._idLength = opts.idLength || 20
  this.id = toBuffer(opts.id || opts.nodeId || randombytes(this._idLength))
  // BEP32: a node per address family, each with its own socket and routing table
  this.family = opts.family === 6 ? 6 : 4
  if (this.family === 6 && !opts.krpcSocket && !opts.socket) {
    opts = Object.assign({}, opts, { socket: dgram.createSocket({ type: 'udp6', ipv6Only: true }) })
  }
  this.socket = opts.krpcSocket || socket(opts)
  this.bootstrap = toBootstrapArray(opts.nodes || opts.bootstrap, this.family)
  // the node of the other family, whose nodes answer a query's `want` for that family
  this.sibling = null
  this.concurrency = opts.concurrency || MAX_CONCURRENCY
  this.backgroundConcurrency = opts.backgroundConcurrency || (this.concurrency / 4) | 0
  this.k = opts.k || K
  this.destroyed = false

  this.pending = []
  this.nodes = null

  this.socket.setMaxListeners(0)
  this.socket.on('query', onquery)
  this.socket.on('response', onresponse)
  this.socket.on('warning', onwarning)
  this.socket.on('error', onerror)
  this.socket.on('update', onupdate)
  this.socket.on('listening', onlistening)

  events.EventEmitter.call(this)
  this.clear()

  function onupdate () {
    while (self.pending.length && self.socket.inflight < self.concurrency) {
      var next = self.pending.shift()
      self.query(next[0], next[1], next[2])
    }
  }

  function onerror (err) {
    self.emit('error', err)
  }

  function onlistening () {
    self.emit('listening')
  }

  function onwarning (err) {
    self.emit('warning', err)
  }

  function onquery (query, peer) {
    addNode(query.a, peer)
    self.emit('query', query, peer)
  }

  function onresponse (reply, peer) {
    addNode(reply.r, peer)
  }

  function addNode (data, peer) {
    if (data && isNodeId(data.id, self._idLength) && !data.id.equals(self.id)) {
      var old = self.nodes.get(data.id)
      if (old) {
        old.seen = Date.now()
        return
      }
      self._addNode({
        id: data.id,
        host: peer.address || peer.host,
        port: peer.port,
        distance: 0,
        seen: Date.now()
      })
    }
  }
}

util.inherits(RPC, events.EventEmitter)

RPC.prototype.response = function (node, query, response, nodes, cb) {
  if (typeof nodes === 'function') {
    cb = nodes
    nodes = null
  }

  if (!response.id) response.id = this.id
  if (nodes) {
    var want = wanted(query, this.family)
    if (want[this.family]) response[nodesKey(this.family)] = encodeNodes(nodes, this._idLength, this.family)
    var other = this.sibling
    var target = query.a && (query.a.target || query.a.info_hash)
    if (other && other.family !== this.family && want[other.family] && isNodeId(target, this._idLength)) {
      response[nodesKey(other.family)] = encodeNodes(other.nodes.closest(target, this.k), this._idLength, other.family)
    }
  }
  this.socket.response(node, query, response, cb)
}

RPC.prototype.error = function (node, query, error, cb) {
  this.socket.error(node, query, error, cb)
}

// bind([port], [address], [callback])
RPC.prototype.bind = function () {
  this.socket.bind.apply(this.socket, arguments)
}

RPC.prototype.address = function () {
  return this.socket.address()
}

RPC.prototype.queryAll = function (nodes, message, visit, cb) {
  if (!message.a) message.a = {}
  if (!message.a.id) message.a.id = this.id

  var stop = false
  var missing = nodes.length
  var hits = 0
  var error = null

  if (!missing) return cb(new Error('No nodes to query'), 0)

  for (var i = 0; i < nodes.length; i++) {
    this.query(nodes[i], message, done)
  }

  function done (err, res, peer) {
    if (!err) hits++
    else if (err.code >= 300 && err.code < 400) error = err
    if (!err && !stop) {
      if (visit && visit(res, peer) === false) stop = true
    }
    if (!--missing) cb(hits ? null : error || new Error('All queries failed'), hits)
  }
}

RPC.prototype.query = function (node, message, cb) {
  if (this.socket.inflight >= this.concurrency) {
    this.pending.push([node, message, cb])
  } else {
    if (!message.a) message.a = {}
    if (!message.a.id) message.a.id = this.id
    if (node.token) message.a.token = node.token
    addWant(message, this.family)
    this.socket.query(node, message, cb)
  }
}

RPC.prototype.destroy = function (cb) {
  this.destroyed = true
  this.socket.destroy(cb)
}

RPC.prototype.clear = function () {
  var self = this

  this.nodes = new KBucket({
    localNodeId: this.id,
    numberOfNodesPerKBucket: this.k,
    numberOfNodesToPing: this.concurrency
  })

  this.nodes.on('ping', onping)

  function onping (older, newer) {
    self.emit('ping', older, function swap (deadNode) {
      if (!deadNode) return
      if (deadNode.id) self.nodes.remove(deadNode.id)
      self._addNode(newer)
    })
  }
}

RPC.prototype.populate = function (target, message, cb) {
  this._closest(target, message, true, null, cb)
}

RPC.prototype.closest = function (target, message, visit, cb) {
  this._closest(target, message, false, visit, cb)
}

RPC.prototype._addNode = function (node) {
  var old = this.nodes.get(node.id)
  this.nodes.add(node)
  if (!old) this.emit('node', node)
}

RPC.prototype._closest = function (target, message, background, visit, cb) {
  if (!cb) cb = noop

  var self = this
  var count = 0
  var queried = {}
  var pending = 0
  var once = true
  var stop = false

  if (!message.a) message.a = {}
  if (!message.a.id) message.a.id = this.id
  addWant(message, this.family)

  var table = new KBucket({
    localNodeId: target,
    numberOfNodesPerKBucket: this.k,
    numberOfNodesToPing: this.concurrency
  })

  var evt = background ? 'postupdate' : 'update'
  this.socket.on(evt, kick)
  kick()

  function kick () {
    if (self.destroyed || self.socket.inflight >= self.concurrency) return

    var otherInflight = self.pending.length + self.socket.inflight - pending
    if (background && self.socket.inflight >= self.backgroundConcurrency && otherInflight) return

    var closest = table.closest(target, self.k)
    if (!closest.length || closest.length < self.bootstrap.length) {
      closest = self.nodes.closest(target, self.k)
      if (!closest.length || closest.length < self.bootstrap.length) bootstrap()
    }

    for (var i = 0; i < closest.length; i++) {
      if (stop) break
      if (self.socket.inflight >= self.concurrency) return

      var peer = closest[i]
      var id = peer.host + ':' + peer.port
      if (queried[id]) continue
      queried[id] = true

      pending++
      self.socket.query(peer, message, afterQuery)
    }

    if (!pending) {
      self.socket.removeListener(evt, kick)
      process.nextTick(done)
    }
  }

  function done () {
    cb(null, count)
  }

  function bootstrap () {
    if (!once) return
    once = false
    self.bootstrap.forEach(function (peer) {
      pending++
      queryByName(peer, afterQuery)
    })
  }

  // a bootstrap name resolves in this node's family (k-rpc-socket's lookup takes any)
  function queryByName (peer, cb) {
    if (net.isIP(peer.host)) return self.socket.query(peer, message, cb)
    dns.lookup(peer.host, { family: self.family }, function (err, ip) {
      if (err || self.destroyed) return cb(err || new Error('k-rpc is destroyed'), null, peer)
      self.socket.query({ host: ip, port: peer.port }, message, cb)
    })
  }

  function afterQuery (err, res, peer) {
    pending--
    if (peer) queried[(peer.address || peer.host) + ':' + peer.port] = true // need this for bootstrap nodes

    if (peer && peer.id && self.nodes.get(peer.id)) {
      if (err && (err.code === 'EUNEXPECTEDNODE' || err.code === 'ETIMEDOUT')) {
        self.nodes.remove(peer.id)
      }
    }

    var r = res && res.r
    if (!r) return kick()

    if (!err && isNodeId(r.id, self._idLength)) {
      count++
      add({
        id: r.id,
        port: peer.port,
        host: peer.host || peer.address,
        distance: 0
      })
    }

    var nodes = parseNodes(r[nodesKey(self.family)], self._idLength, self.family)
    for (var i = 0; i < nodes.length; i++) add(nodes[i])

    if (visit && visit(res, peer) === false) stop = true

    kick()
  }

  function add (node) {
    if (node.id.equals(self.id)) return
    table.add(node)
  }
}

function toBootstrapArray (val, family) {
  if (val === false) return []
  if (val === true) val = BOOTSTRAP_NODES
  // an address of the other family cannot be reached from this node's socket
  return [].concat(val || BOOTSTRAP_NODES).map(parsePeer).filter(function (peer) {
    var type = net.isIP(peer.host)
    return peer.port > 0 && peer.port < 65536 && (type === 0 || type === family)
  })
}

function nodesKey (family) {
  return family === 6 ? 'nodes6' : 'nodes'
}

// BEP32: `want` lists the families whose nodes a reply should carry; without it, the query's own
function wanted (query, family) {
  var want = query.a && query.a.want
  var result = {}
  if (!Array.isArray(want)) {
    result[family] = true
    return result
  }
  for (var i = 0; i < want.length; i++) {
    var flag = Buffer.isBuffer(want[i]) ? want[i].toString() : want[i]
    if (flag === 'n4') result[4] = true
    if (flag === 'n6') result[6] = true
  }
  return result
}

function addWant (message, family) {
  var a = message.a
  if (!a.want && (a.target || a.info_hash)) a.want = [family === 6 ? 'n6' : 'n4']
}

function isNodeId (id, idLength) {
  return id && Buffer.isBuffer(id) && id.length === idLength
}

// compact node info: the id, then the address (4 bytes, or 16 for IPv6) and the port
function encodeNodes (nodes, idLength, family) {
  family = family || 4
  var buf = Buffer.allocUnsafe(nodes.length * (idLength + addressLength(family)))
  var ptr = 0

  for (var i = 0; i < nodes.length; i++) {
    var node = nodes[i]
    if (!isNodeId(node.id, idLength)) continue
    var ip = encodeIp(node.host || node.address)
    if (!ip || ip.length !== addressLength(family) - 2) continue
    node.id.copy(buf, ptr)
    ptr += idLength
    ip.copy(buf, ptr)
    ptr += ip.length
    buf.writeUInt16BE(node.port, ptr)
    ptr += 2
  }

  if (ptr === buf.length) return buf
  return buf.slice(0, ptr)
}

// a field whose length is not a whole number of entries is refused whole: it is not compact node info
function parseNodes (buf, idLength, family) {
  family = family || 4
  var contacts = []
  var size = idLength + addressLength(family)
  if (!Buffer.isBuffer(buf) || buf.length % size !== 0) return contacts

  for (var i = 0; i < buf.length; i += size) {
    var peer = decodeAddress(buf.subarray(i + idLength, i + size))
    if (!peer) continue
    contacts.push({
      id: buf.slice(i, i + idLength),
      host: peer.host,
      port: peer.port,
      distance: 0,
      token: null
    })
  }

  return contacts
}

function addressLength (family) {
  return family === 6 ? 18 : 6
}

// the 4 or 16 bytes of an IP address, or null
function encodeIp (host) {
  var type = net.isIP(host)
  if (type === 4) return Buffer.from(host.split('.').map(Number))
  if (type !== 6) return null
  host = host.split('%')[0]
  var buf = Buffer.alloc(16)
  var dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(host)
  if (dotted) {
    Buffer.from(dotted[1].split('.').map(Number)).copy(buf, 12)
    host = host.slice(0, -dotted[1].length) + '0:0'
  }
  var halves = host.split('::')
  var head = halves[0] ? halves[0].split(':') : []
  var tail = halves.length > 1 && halves[1] ? halves[1].split(':') : []
  var groups = head.concat(new Array(8 - head.length - tail.length).fill('0'), tail)
  for (var i = 0; i < 8; i++) {
    var value = parseInt(groups[i], 16)
    if (i < 6 || !dotted) buf.writeUInt16BE(value, i * 2)
  }
  return buf
}

// { host, port } from a compact address (6 or 18 bytes), in the form sockets report; null for
// port 0, a wrong length, or an IPv6 form that embeds an IPv4 address (not an IPv6 node)
function decodeAddress (buf) {
  if (buf.length !== 6 && buf.length !== 18) return null
  var port = buf.readUInt16BE(buf.length - 2)
  if (!port) return null
  if (buf.length === 6) return { host: buf[0] + '.' + buf[1] + '.' + buf[2] + '.' + buf[3], port: port }
  var groups = []
  for (var i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(i))
  var embedsIPv4 = groups.slice(0, 5).every(isZero) && (groups[5] === 0xffff || (groups[5] === 0 && groups[6] !== 0))
  if (embedsIPv4) return null
  return { host: formatIPv6(groups), port: port }
}

// RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups (the first
// of equals) as '::'
function formatIPv6 (groups) {
  var best = -1
  var bestLength = 1
  for (var i = 0; i < 8; i++) {
    var j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) {
      best = i
      bestLength = j - i
    }
    if (j > i) i = j
  }
  var hex = groups.map(function (g) { return g.toString(16) })
  if (best === -1) return hex.join(':')
  return hex.slice(0, best).join(':') + '::' + hex.slice(best + bestLength).join(':')
}

function canonicalIPv6 (host) {
  var buf = encodeIp(host)
  var groups = []
  for (var i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(i))
  return formatIPv6(groups)
}

function isZero (n) {
  return n === 0
}

// "host:port", "[v6]:port" or { host, port }
function parsePeer (peer) {
  if (typeof peer !== 'string') return peer
  var bracketed = /^\[([^\]]*)\]:(\d+)$/.exec(peer)
  // in the form sockets report the address answers come from, as k-rpc-socket compares them
  if (bracketed) return { host: net.isIPv6(bracketed[1]) ? canonicalIPv6(bracketed[1]) : bracketed[1], port: Number(bracketed[2]) }
  var at = peer.lastIndexOf(':')
  return { host: peer.slice(0, at), port: Number(peer.slice(at + 1)) }
}

function noop () {}

RPC.encodeNodes = encodeNodes
RPC.parseNodes = parseNodes
RPC.encodeIp = encodeIp
RPC.decodeAddress = decodeAddress
RPC.parsePeer = parsePeer

function toBuffer (str) {
  if (Buffer.isBuffer(str)) return str
  if (ArrayBuffer.isView(str)) return Buffer.from(str.buffer, str.byteOffset, str.byteLength)
  if (typeof str === 'string') return Buffer.from(str, 'hex')
  throw new Error('Pass a buffer or a string')
}
