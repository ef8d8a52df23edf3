/**
 * The swarm layer's tuning constants in one place: sizes, rates and timeouts that are choices,
 * not protocol. How they were measured is in bench/README.md.
 */

/** Partial pieces held at once: about a full request window at loopback speed (500 x 16 KiB). */
export const DEFAULT_MEMORY = 8 * 1024 * 1024
/** Largest block a peer may ask of us (libtorrent refuses above 128 KiB too). */
export const MAX_REQUEST = 128 * 1024
/** Requests we accept from one peer (our BEP10 reqq). */
export const UPLOAD_QUEUE = 500
/** Disk reads in flight per peer: enough to hide read latency, few enough to stop when the socket is full. */
export const READS_PER_PEER = 16
/** Seconds of transfer at the peer's current rate that we keep requested. */
export const QUEUE_SECONDS = 1
export const MIN_QUEUE = 16
export const START_QUEUE = 128
/** Requests outstanding with no block for this long go back to the pool. */
export const STALL_TIMEOUT = 30_000
export const CONNECT_TIMEOUT = 5_000
export const DEFAULT_MAX_PEERS = 50
/** Discovery keeps looking for peers while a torrent has fewer than this (or its maxPeers). */
export const WANTED_PEERS = 30
export const RECHOKE_INTERVAL = 10_000
/** The optimistic unchoke moves every third round (30 s), as BEP3 suggests. */
export const OPTIMISTIC_ROUNDS = 3
/** Regular upload slots: libtorrent's default (bench/README.md: why eight, not BEP3's four). */
export const SLOTS = 8
