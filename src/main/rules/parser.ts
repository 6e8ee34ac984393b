import type { ArithOp, CompareOp, Expr, InTarget } from './ast'
import { positionAt, RuleError } from './errors'
import { tokenize, type Token } from './lexer'

// Recursive descent over the tokens, one function per precedence level (lowest first):
//   or → and → not → comparison (=, !=, <, <=, >, >=, [not] in, is [not] null; never chained)
//   → + - → * / % → unary - → value (number, 'string', true, false, attribute, ( … ))
// Limits keep a hostile or generated condition from costing memory, stack or SQL planner time.

export const MAX_CONDITION_LENGTH = 10_000
export const MAX_NODES = 1_000
export const MAX_DEPTH = 40

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'null', 'true', 'false', 'list'])
const COMPARE_OPS: Record<string, CompareOp> = { '=': '=', '!=': '!=', '<>': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' }

export function parseCondition(text: string): Expr {
  if (text.length > MAX_CONDITION_LENGTH) {
    throw new RuleError(
      'limit',
      `condition is ${text.length.toLocaleString('en-US')} characters long, more than ${MAX_CONDITION_LENGTH.toLocaleString('en-US')}: ` +
        `put long value lists in a named list and write  x in list('name')`,
      text,
      MAX_CONDITION_LENGTH
    )
  }
  return new Parser(text, tokenize(text)).condition()
}

class Parser {
  private i = 0
  private depth = 0
  private nodes = 0

  constructor(
    private readonly text: string,
    private readonly tokens: Token[]
  ) {}

  condition(): Expr {
    if (this.peek().kind === 'eof') this.fail('the condition is empty', this.peek())
    const e = this.or()
    const t = this.peek()
    if (t.kind !== 'eof') this.fail(`unexpected ${describe(t)} after a complete condition: join conditions with 'and' or 'or'`, t)
    return e
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]
  }

  private next(): Token {
    return this.tokens[this.i++]
  }

  private keyword(t: Token): string | null {
    if (t.kind !== 'word') return null
    const w = t.text.toLowerCase()
    return KEYWORDS.has(w) ? w : null
  }

  private isKeyword(word: string, ahead = 0): boolean {
    return this.keyword(this.peek(ahead)) === word
  }

  private isOp(op: string): boolean {
    const t = this.peek()
    return t.kind === 'op' && t.text === op
  }

  private expectOp(op: string, what: string): Token {
    const t = this.peek()
    if (t.kind !== 'op' || t.text !== op) this.fail(`expected '${op}' ${what}, found ${describe(t)}`, t)
    return this.next()
  }

  private fail(detail: string, t: Token): never {
    throw new RuleError('syntax', detail, this.text, t.start, Math.max(1, t.end - t.start))
  }

  private node<T extends Expr | InTarget>(n: T): T {
    if (++this.nodes > MAX_NODES) {
      throw new RuleError('limit', `condition has more than ${MAX_NODES} parts: split it into several rules or use a named list`, this.text, n.start)
    }
    return n
  }

  /** Guards the recursion: each nested level of parentheses, not or minus goes through here. */
  private nested<T>(at: Token, parse: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      throw new RuleError('limit', `condition is nested more than ${MAX_DEPTH} levels deep`, this.text, at.start)
    }
    try {
      return parse()
    } finally {
      this.depth--
    }
  }

  private or(): Expr {
    let left = this.and()
    while (this.isKeyword('or')) {
      this.next()
      const right = this.and()
      left = this.node({ kind: 'logical', op: 'or', left, right, start: left.start, end: right.end })
    }
    return left
  }

  private and(): Expr {
    let left = this.not()
    while (this.isKeyword('and')) {
      this.next()
      const right = this.not()
      left = this.node({ kind: 'logical', op: 'and', left, right, start: left.start, end: right.end })
    }
    return left
  }

  private not(): Expr {
    if (!this.isKeyword('not')) return this.comparison()
    const t = this.next()
    return this.nested(t, () => {
      const operand = this.not()
      return this.node({ kind: 'not', operand, start: t.start, end: operand.end })
    })
  }

  private comparison(): Expr {
    const left = this.additive()
    const e = this.comparisonTail(left)
    if (e !== left) {
      const t = this.peek()
      if ((t.kind === 'op' && COMPARE_OPS[t.text]) || this.isKeyword('in') || this.isKeyword('is') || (this.isKeyword('not') && this.isKeyword('in', 1))) {
        this.fail(`comparisons do not chain: join them with 'and', e.g. a > 1 and a < 5`, t)
      }
    }
    return e
  }

  private comparisonTail(left: Expr): Expr {
    const t = this.peek()
    if (t.kind === 'op' && COMPARE_OPS[t.text]) {
      this.next()
      const right = this.additive()
      return this.node({ kind: 'compare', op: COMPARE_OPS[t.text], left, right, start: left.start, end: right.end })
    }
    if (this.isKeyword('in') || (this.isKeyword('not') && this.isKeyword('in', 1))) {
      const negated = this.isKeyword('not')
      if (negated) this.next()
      this.next()
      const target = this.inTarget()
      return this.node({ kind: 'in', negated, value: left, target, start: left.start, end: target.end })
    }
    if (this.isKeyword('is')) {
      this.next()
      const negated = this.isKeyword('not')
      if (negated) this.next()
      const n = this.peek()
      if (!this.isKeyword('null')) this.fail(`expected 'null' after 'is${negated ? ' not' : ''}', found ${describe(n)}`, n)
      this.next()
      return this.node({ kind: 'isNull', negated, operand: left, start: left.start, end: n.end })
    }
    return left
  }

  private inTarget(): InTarget {
    const t = this.peek()
    if (this.isOp('(')) {
      this.next()
      const items: Expr[] = []
      if (this.isOp(')')) this.fail(`a list in ( … ) needs at least one value`, this.peek())
      for (;;) {
        items.push(this.additive())
        if (this.isOp(',')) {
          this.next()
          continue
        }
        const close = this.expectOp(')', `or ',' in the list of values`)
        return this.node({ kind: 'tuple', items, start: t.start, end: close.end })
      }
    }
    if (this.isKeyword('list')) {
      this.next()
      this.expectOp('(', `after list, as in list('blocked')`)
      const name = this.peek()
      if (name.kind !== 'string') this.fail(`expected the list's name in single quotes, as in list('blocked'), found ${describe(name)}`, name)
      this.next()
      const close = this.expectOp(')', `after the list's name`)
      return this.node({ kind: 'namedList', name: name.value as string, start: t.start, end: close.end })
    }
    if (t.kind === 'word' && !this.keyword(t)) {
      this.next()
      return this.node({ kind: 'attribute', name: t.text, start: t.start, end: t.end })
    }
    return this.fail(`expected ( … ), list('name') or a list attribute such as categories after 'in', found ${describe(t)}`, t)
  }

  private additive(): Expr {
    let left = this.multiplicative()
    for (;;) {
      const t = this.peek()
      if (t.kind !== 'op' || (t.text !== '+' && t.text !== '-')) return left
      this.next()
      const right = this.multiplicative()
      left = this.node({ kind: 'arith', op: t.text as ArithOp, left, right, start: left.start, end: right.end })
    }
  }

  private multiplicative(): Expr {
    let left = this.unary()
    for (;;) {
      const t = this.peek()
      if (t.kind !== 'op' || (t.text !== '*' && t.text !== '/' && t.text !== '%')) return left
      this.next()
      const right = this.unary()
      left = this.node({ kind: 'arith', op: t.text as ArithOp, left, right, start: left.start, end: right.end })
    }
  }

  private unary(): Expr {
    if (!this.isOp('-')) return this.value()
    const t = this.next()
    return this.nested(t, () => {
      const operand = this.unary()
      return this.node({ kind: 'negate', operand, start: t.start, end: operand.end })
    })
  }

  private value(): Expr {
    const t = this.peek()
    if (t.kind === 'number') {
      this.next()
      return this.node({ kind: 'number', value: t.value as number, start: t.start, end: t.end })
    }
    if (t.kind === 'string') {
      this.next()
      return this.node({ kind: 'string', value: t.value as string, start: t.start, end: t.end })
    }
    if (t.kind === 'op' && t.text === '(') {
      this.next()
      const inner = this.nested(t, () => this.or())
      const at = positionAt(this.text, t.start)
      this.expectOp(')', `to close the '(' at line ${at.line}, column ${at.column}`)
      return inner
    }
    if (t.kind === 'word') {
      const kw = this.keyword(t)
      if (kw === 'true' || kw === 'false') {
        this.next()
        return this.node({ kind: 'boolean', value: kw === 'true', start: t.start, end: t.end })
      }
      if (kw === 'null') this.fail(`null can only be tested, as in  customer_segment is null`, t)
      if (kw === 'list') this.fail(`list('name') can only follow 'in', as in  customer_id in list('blocked')`, t)
      if (kw) this.fail(`expected a value, found '${t.text}'`, t)
      if (this.peek(1).kind === 'op' && this.peek(1).text === '(') {
        this.fail(`${t.text}( … ): there are no function calls in conditions, only attributes, values and operators`, t)
      }
      this.next()
      return this.node({ kind: 'attribute', name: t.text, start: t.start, end: t.end })
    }
    return this.fail(`expected a value, found ${describe(t)}`, t)
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the condition'
  if (t.kind === 'string') return `the string ${t.text.length > 30 ? `${t.text.slice(0, 27)}…` : t.text}`
  if (t.kind === 'number') return `the number ${t.text}`
  return `'${t.text}'`
}
