import { InvalidArgumentError } from 'commander'

/** What `seed` leaves out unless --include-hidden: OS and editor litter that nobody means to publish. */
const JUNK = ['Thumbs.db', 'ehthumbs.db', 'desktop.ini', '*~', '#*#', '*.swp', '*.swo']

/**
 * A glob as a RegExp: `**` any run of characters, `*` any run without '/', `?` one character other
 * than '/'. A glob without '/' matches a name at any depth (as in .gitignore); one with '/' matches
 * the whole path under the seeded folder.
 */
export function globToRegExp (glob: string): RegExp {
  let body = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*' && glob[i + 1] === '*') {
      body += '.*'
      i++
      if (glob[i + 1] === '/') i++
    } else if (c === '*') body += '[^/]*'
    else if (c === '?') body += '[^/]'
    else body += c.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(glob.includes('/') ? `^${body}$` : `(^|/)${body}$`)
}

/** `--ignore GLOB`, repeatable. */
export function collectGlob (text: string, previous: string[] | undefined): string[] {
  if (text === '' || text.includes('\0')) throw new InvalidArgumentError('expected a glob such as "*.log" or "drafts/**"')
  return [...previous ?? [], text]
}

export interface IgnoreRules {
  includeHidden: boolean
  globs: readonly string[]
}

/** The filter for client.seed()'s `ignore`, and what it left out (folders end in '/'), to tell the user. */
export function ignoreFilter (rules: IgnoreRules): { ignore: (path: string, isDirectory: boolean) => boolean, skipped: string[] } {
  const patterns = [...rules.includeHidden ? [] : JUNK, ...rules.globs].map(globToRegExp)
  const skipped: string[] = []
  const ignore = (p: string, isDirectory: boolean): boolean => {
    const name = p.slice(p.lastIndexOf('/') + 1)
    const out = (!rules.includeHidden && name.startsWith('.')) || patterns.some((re) => re.test(p))
    if (out) skipped.push(isDirectory ? `${p}/` : p)
    return out
  }
  return { ignore, skipped }
}
