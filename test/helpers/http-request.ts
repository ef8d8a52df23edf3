import http from 'node:http'

export interface Reply { status: number, headers: http.IncomingHttpHeaders, body: Buffer }

/** One request to 127.0.0.1 with the path sent exactly as given (no normalisation by a URL parser);
 *  `http://NAME:PORT/path` sends NAME:PORT as the Host, so no DNS is needed for *.localhost. */
export function request (port: number, target: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Reply> {
  const absolute = /^http:\/\/([^/]+)(\/.*)$/.exec(target)
  const path = absolute === null ? target : absolute[2]!
  if (absolute !== null) headers = { host: absolute[1]!, ...headers }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

