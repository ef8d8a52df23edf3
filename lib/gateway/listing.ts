export interface ListingEntry {
  name: string
  directory: boolean
  size: number
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text made safe to place in HTML content and in quoted attribute values. */
export function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!)
}

/**
 * An HTML page listing a folder of an archive. Names come from the torrent, so they are escaped
 * for the page and percent-encoded for the links (relative, so the page works under any prefix).
 */
export function renderListing (title: string, entries: readonly ListingEntry[], hasParent: boolean): string {
  const rows = entries.map((e) => {
    const href = encodeURIComponent(e.name) + (e.directory ? '/' : '')
    const label = escapeHtml(e.name) + (e.directory ? '/' : '')
    const size = e.directory ? '' : String(e.size)
    return `<tr><td><a href="${escapeHtml(href)}">${label}</a></td><td>${size}</td></tr>`
  })
  if (hasParent) rows.unshift('<tr><td><a href="../">../</a></td><td></td></tr>')
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    '<table><thead><tr><th>Name</th><th>Bytes</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
    '</body></html>',
    ''
  ].join('\n')
}
