// The names @thaunknown/simple-peer imports. WebTorrent only constructs them for WebRTC peers,
// which the interop tests never use (no trackers, no signalling): reaching one is a test bug.
function unavailable () {
  throw new Error('WebRTC is not available: test/interop/stubs/webrtc-polyfill stands in for webrtc-polyfill, and the interop tests use TCP peers only')
}

export class RTCPeerConnection { constructor () { unavailable() } }
export class RTCSessionDescription { constructor () { unavailable() } }
export class RTCIceCandidate { constructor () { unavailable() } }
