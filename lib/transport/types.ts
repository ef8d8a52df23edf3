import type { EventEmitter } from 'node:events'

/**
 * What the wire protocol needs of a connection, whatever carries it: TCP today, uTP (BEP29) and
 * MSE/PE-wrapped streams next. It is the part of node's `net.Socket` that `Wire` uses, so a TCP
 * socket is one as it is; another transport implements these members with the same meaning.
 */
export interface PeerStream extends EventEmitter {
  readonly remoteAddress: string | undefined
  readonly remotePort: number | undefined
  /** Bytes accepted by write() and not yet handed to the network. */
  readonly writableLength: number
  readonly writableHighWaterMark: number
  readonly destroyed: boolean
  write (chunk: Uint8Array): boolean
  /** Hold writes until uncork(), to send a tick's messages in as few packets as possible. */
  cork (): void
  uncork (): void
  destroy (err?: Error): void
  /** Close at once, telling the peer (TCP RST, uTP ST_RESET), and drop what is queued. */
  resetAndDestroy (): void
  /** Turns off delaying small writes (Nagle); a transport without such delay ignores it. */
  setNoDelay (noDelay?: boolean): void
  // Events, as net.Socket emits them: 'connect' once an outgoing connection is up; 'data' only
  // for streams dialled without a read callback (TransportDialOptions.onData); 'drain';
  // 'error'; 'close' exactly once.
}

export type TransportName = 'tcp' | 'utp'

export interface TransportDialOptions {
  /** Called with each chunk read, valid only until it returns (lets TCP read into one shared
   *  buffer). Without it the stream emits 'data' with buffers the listener may keep. */
  onData?: (chunk: Buffer) => void
  /** ms for the connection to come up before it is destroyed with ETIMEDOUT. */
  timeout?: number
}

/**
 * A way to reach peers and to be reached: dials out, and hands every incoming connection to the
 * callback given to listen(). The client owns one per kind and the swarm never touches sockets.
 */
export interface Transport {
  readonly name: TransportName
  dial (host: string, port: number, options?: TransportDialOptions): PeerStream
  /** Starts accepting; resolves to the bound port (useful with port 0). An accepted stream emits
   *  'data' with chunks valid only until its listeners return (TCP reads into a shared buffer). */
  listen (port: number, host: string | undefined, onConnection: (stream: PeerStream) => void): Promise<number>
  close (): Promise<void>
}
