import http from 'node:http'

export interface ServerLimits {
  /** Connections open at once; the server drops ('drop' event) any above it as they arrive. */
  maxConnections: number
  /** ms to receive a request's headers; slower clients get 408 and are closed. */
  headersTimeout: number
  /** ms of silence on a connection before it is closed. */
  idleTimeout: number
}

/**
 * An http.Server that a slow or numerous client cannot hold open: node:http keeps a connection
 * that sends nothing, or headers a byte at a time, for minutes by default.
 */
export function createBoundedServer (limits: ServerLimits, listener: http.RequestListener): http.Server {
  const server = http.createServer({
    headersTimeout: limits.headersTimeout,
    // A whole request is its headers here (GET and HEAD have no body).
    requestTimeout: limits.headersTimeout,
    keepAliveTimeout: Math.min(5000, limits.idleTimeout),
    // node:http checks the two timeouts above only this often (30 s by default).
    connectionsCheckingInterval: Math.max(10, Math.min(1000, limits.headersTimeout / 4))
  }, listener)
  server.maxConnections = limits.maxConnections
  server.timeout = limits.idleTimeout
  return server
}
