/**
 * The demo's live terminal view: once a second, one compact line with a glyph per read that
 * completed in that second (P = primary, 0 / 1 = replica-0 / replica-1, ! = a stale read) and
 * the counts. Colours only on a terminal, and never with NO_COLOR.
 */

const useColor = process.stdout.isTTY === true && !process.env.NO_COLOR && process.env.TERM !== 'dumb'
const paint = (code) => (s) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s)

export const c = {
  bold: paint('1'),
  dim: paint('2'),
  primary: paint('34'),
  replica0: paint('32'),
  replica1: paint('36'),
  stale: paint('1;97;41'),
  red: paint('1;31'),
  green: paint('1;32'),
}

/** Terminal width (a pipe or file: wide). */
const columns = process.stdout.isTTY ? process.stdout.columns || 80 : 160
const wide = columns >= 118

const GLYPH = { primary: c.primary('P'), 'replica-0': c.replica0('0'), 'replica-1': c.replica1('1') }

/** The legend printed once before the phases. */
export function legend() {
  return `  Each second, one line: a mark per read — ${c.primary('P')} served by the primary, ` +
    `${c.replica0('0')} by replica-0, ${c.replica1('1')} by replica-1, ${c.stale('!')} a STALE read ` +
    '(the user did not see their own note).'
}

/** Wraps text to `width` columns, each line indented by `indent`. */
export function wrap(text, width = Math.min(96, columns - 2), indent = '  ') {
  const lines = []
  let line = ''
  for (const word of text.split(/\s+/)) {
    if (line && (indent + line + ' ' + word).replace(/\x1b\[[0-9;]*m/g, '').length > width) {
      lines.push(indent + line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(indent + line)
  return lines.join('\n')
}

/**
 * A live view for one phase of `seconds`: a line per second from `start()`; reads that complete
 * after the last second (requests in flight at the deadline) go on one final line at `stop()`.
 */
export function createLiveView({ seconds = Infinity, write = (s) => console.log(s), maxGlyphs = wide ? 40 : Math.max(8, columns - 52) } = {}) {
  let bucket = []
  let second = 0
  let timer
  const totals = { reads: 0, stale: 0, primary: 0, 'replica-0': 0, 'replica-1': 0 }

  const flush = (label) => {
    second++
    const reads = bucket
    bucket = []
    const counts = { primary: 0, 'replica-0': 0, 'replica-1': 0 }
    let strip = ''
    let shown = 0
    let stale = 0
    for (const r of reads) {
      counts[r.server] = (counts[r.server] ?? 0) + 1
      if (r.stale) stale++
      if (shown++ < maxGlyphs) strip += r.stale ? c.stale('!') : GLYPH[r.server] ?? '?'
    }
    const pad = ' '.repeat(Math.max(0, maxGlyphs - Math.min(shown, maxGlyphs)))
    const more = shown > maxGlyphs ? c.dim('…') : ' '
    const n = (x) => String(x).padStart(2)
    const staleText = stale ? c.red(`stale ${n(stale)}`) : c.dim(`stale ${n(0)}`)
    const [p, r0, r1] = wide ? ['primary ', 'replica-0 ', 'replica-1 '] : ['P ', 'r0 ', 'r1 ']
    write(`  ${c.dim(label ?? `${String(second).padStart(3)}s`)}  ${strip}${pad}${more} ${c.primary(`${p}${n(counts.primary)}`)}  ` +
      `${c.replica0(`${r0}${n(counts['replica-0'])}`)}  ${c.replica1(`${r1}${n(counts['replica-1'])}`)}  ${staleText}` +
      c.dim(wide ? `   total stale ${totals.stale}/${totals.reads}` : ` (${totals.stale}/${totals.reads})`))
  }

  return {
    start() {
      timer = setInterval(() => {
        flush()
        if (second >= seconds) clearInterval(timer)
      }, 1000)
    },
    onRead(record) {
      bucket.push(record)
      totals.reads++
      if (record.stale) totals.stale++
      totals[record.server] = (totals[record.server] ?? 0) + 1
    },
    stop() {
      clearInterval(timer)
      if (bucket.length) flush(second >= seconds ? ' end' : undefined)
      return totals
    },
  }
}
