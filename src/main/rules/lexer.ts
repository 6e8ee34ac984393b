import { RuleError } from './errors'

// Tokens of the condition language. Anything that is not one of them is refused here, with a
// hint for what people coming from SQL or JavaScript tend to type (==, &&, "text", ;).

export type TokenKind = 'number' | 'string' | 'word' | 'op' | 'eof'

export interface Token {
  kind: TokenKind
  /** The source text of the token (for a string: with its quotes). */
  text: string
  start: number
  end: number
  /** number: its value; string: the text between the quotes, '' unescaped. */
  value?: number | string
}

const OPERATORS = ['<=', '>=', '!=', '<>', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',']

const MISTAKES: Record<string, string> = {
  '==': "use = to compare ('==' is not an operator here)",
  '&&': "use 'and' ('&&' is not an operator here)",
  '||': "use 'or' ('||' is not an operator here)",
  '!': "use 'not' ('!' is not an operator here)",
  ';': "unexpected ';': a condition is one expression, there is nothing to separate",
  '"': "strings are written in single quotes, e.g. 'cancelled'",
  '`': "strings are written in single quotes, e.g. 'cancelled'",
  '≠': 'use != for "not equal"',
  '≤': 'use <= for "at most"',
  '≥': 'use >= for "at least"'
}

/** A number is at most this large in absolute value: far beyond any amount, and exact as a DOUBLE. */
export const MAX_NUMBER = 1e15

const isDigit = (c: string) => c >= '0' && c <= '9'
const isWordStart = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_'
const isWordPart = (c: string) => isWordStart(c) || isDigit(c)

export function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const fail = (detail: string, at: number, length = 1): never => {
    throw new RuleError('syntax', detail, text, at, length)
  }
  while (i < text.length) {
    const c = text[i]
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++
      continue
    }
    const start = i
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      // digits may be grouped with _ (5_000); a fraction needs digits on both sides of the point
      const m = /^(?:[0-9]+(?:_[0-9]+)*)(?:\.[0-9]+)?/.exec(text.slice(i))
      if (!m) fail(`a number needs a digit before its decimal point (0${text.slice(i, i + 3)})`, i)
      i += m![0].length
      if (i < text.length && (isWordPart(text[i]) || text[i] === '.')) {
        fail(`unexpected '${text[i]}' right after the number ${m![0]}`, i)
      }
      const value = Number(m![0].replace(/_/g, ''))
      if (!(Math.abs(value) <= MAX_NUMBER)) fail(`number ${m![0]} is too large (at most ${MAX_NUMBER.toExponential()})`, start, i - start)
      tokens.push({ kind: 'number', text: m![0], start, end: i, value })
      continue
    }
    if (c === "'") {
      let value = ''
      i++
      for (;;) {
        if (i >= text.length) fail("string is not closed: a ' is missing (write '' for a quote inside a string)", start, text.length - start)
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'"
            i += 2
            continue
          }
          i++
          break
        }
        value += text[i++]
      }
      tokens.push({ kind: 'string', text: text.slice(start, i), start, end: i, value })
      continue
    }
    if (isWordStart(c)) {
      while (i < text.length && isWordPart(text[i])) i++
      tokens.push({ kind: 'word', text: text.slice(start, i), start, end: i })
      continue
    }
    const two = text.slice(i, i + 2)
    if (MISTAKES[two]) fail(MISTAKES[two], i, 2)
    const op = OPERATORS.find((o) => text.startsWith(o, i))
    if (op) {
      i += op.length
      tokens.push({ kind: 'op', text: op, start, end: i })
      continue
    }
    fail(MISTAKES[c] ?? `unexpected character ${JSON.stringify(c)}`, i)
  }
  tokens.push({ kind: 'eof', text: '', start: text.length, end: text.length })
  return tokens
}
