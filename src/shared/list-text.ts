// A list's values as text, one per line: how `streamdesk rules list-import` reads a file and how
// the Rules tab reads what was typed or imported, so both keep the same values.

export const MAX_LIST_VALUES = 1_000_000
export const MAX_VALUE_LENGTH = 1_000

export class ListTextError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ListTextError'
  }
}

/**
 * One value per line, as exported from a spreadsheet or another tool: surrounding spaces and a
 * byte-order mark are dropped, blank lines and lines starting with # are skipped, and a value
 * given twice is kept once (first occurrence, in file order). A # inside a value is part of it.
 */
export function parseListText(text: string): string[] {
  const seen = new Set<string>()
  const values: string[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/)
  for (const [i, raw] of lines.entries()) {
    const v = raw.trim()
    if (v === '' || v.startsWith('#')) continue
    if (v.length > MAX_VALUE_LENGTH) {
      throw new ListTextError(`line ${i + 1}: a value is at most ${MAX_VALUE_LENGTH} characters (this one has ${v.length})`)
    }
    if (seen.has(v)) continue
    seen.add(v)
    values.push(v)
    if (values.length > MAX_LIST_VALUES) throw new ListTextError(`more than ${MAX_LIST_VALUES.toLocaleString('en-US')} values (line ${i + 1})`)
  }
  return values
}
