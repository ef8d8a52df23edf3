/**
 * A STUN binding responder (RFC 5389) for the NAT lab, run in a public-segment namespace: it
 * answers every binding request with XOR-MAPPED-ADDRESS, the source it saw, from the address it
 * was asked on. miniupnpd (ext_perform_stun) needs one to believe its 100.64/10 WAN address is
 * public. Prints {"port"} once bound; exits when stdin closes.
 */
import dgram from 'node:dgram'
import { stunReply } from './stun.js'

const socket = dgram.createSocket('udp4')
socket.on('message', (msg, from) => {
  const reply = stunReply(msg, from.address, from.port)
  if (reply !== null) socket.send(reply, from.port, from.address)
})
socket.bind(Number(process.argv[2] ?? 3478), () => console.log(JSON.stringify({ port: socket.address().port })))
process.stdin.resume().on('end', () => socket.close())
