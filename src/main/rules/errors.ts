// Errors in a rule condition carry where they are, so the Rules tab can underline the spot and
// the CLI can print "line 2, column 14" for a file written by hand.

export interface SourcePosition {
  /** 0-based index into the condition text (UTF-16 code units, as JavaScript strings count). */
  offset: number
  /** 1-based. */
  line: number
  /** 1-based. */
  column: number
}

export type RuleErrorKind = 'syntax' | 'type' | 'limit'

export function positionAt(text: string, offset: number): SourcePosition {
  const clamped = Math.max(0, Math.min(offset, text.length))
  let line = 1
  let lineStart = 0
  for (let i = 0; i < clamped; i++) {
    if (text.charCodeAt(i) === 10) {
      line++
      lineStart = i + 1
    }
  }
  return { offset: clamped, line, column: clamped - lineStart + 1 }
}

export class RuleError extends Error {
  readonly position: SourcePosition

  constructor(
    readonly kind: RuleErrorKind,
    /** The sentence without the position, for UIs that show the position apart. */
    readonly detail: string,
    text: string,
    offset: number,
    /** How many characters the error covers (at least 1, for underlining). */
    readonly length = 1
  ) {
    const position = positionAt(text, offset)
    super(`line ${position.line}, column ${position.column}: ${detail}`)
    this.name = 'RuleError'
    this.position = position
  }
}
