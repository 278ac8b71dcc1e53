/**
 * "Did you mean …?": the closest candidate to a misspelt key or value.
 *
 * @internal
 * @module
 */

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1))
      diag = up
    }
  }
  return row[b.length]!
}

/**
 * The candidate nearest to `word` (case-insensitive edit distance; a prefix of either counts as
 * near), or undefined when none is plausibly meant.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase()
  let best: string | undefined
  let bestScore = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const c = candidate.toLowerCase()
    const score = c === w ? 0 : c.startsWith(w) || w.startsWith(c) ? 1 : distance(w, c)
    if (score < bestScore) {
      best = candidate
      bestScore = score
    }
  }
  const limit = Math.max(2, Math.floor(w.length / 3))
  return bestScore <= limit ? best : undefined
}
