import type { Expr } from './ast'
import { ATTRIBUTES, attribute, closestAttribute, type Attribute, type ValueType } from './attributes'
import { RuleError } from './errors'

// Types every node of a parsed condition and refuses what SQL would reject or silently make
// false: text compared with numbers, a number used as a condition, an unknown attribute or
// list, and a literal that can never equal what silver stores ('Cancelled' — silver has
// 'cancelled').

export interface CheckedCondition {
  expr: Expr
  /** Attributes the condition reads (the inputs it needs, and what its "inputs" text shows). */
  attributes: ReadonlySet<string>
  /** Named lists it tests membership in. */
  lists: ReadonlySet<string>
}

const TYPE_NAME: Record<ValueType, string> = { number: 'a number', string: 'text', boolean: 'true or false', list: 'a list' }

export function checkCondition(text: string, expr: Expr, listNames: ReadonlySet<string>): CheckedCondition {
  const attributes = new Set<string>()
  const lists = new Set<string>()
  const fail = (node: { start: number; end: number }, detail: string): never => {
    throw new RuleError('type', detail, text, node.start, Math.max(1, node.end - node.start))
  }
  const source = (node: { start: number; end: number }) => {
    const s = text.slice(node.start, node.end).replace(/\s+/g, ' ')
    return s.length > 40 ? `${s.slice(0, 37)}…` : s
  }

  const lookup = (node: { name: string; start: number; end: number }): Attribute => {
    const a = attribute(node.name)
    if (!a) {
      const close = closestAttribute(node.name)
      fail(node, `unknown attribute '${node.name}'${close ? ` (did you mean ${close}?)` : ''}; attributes are ${[...ATTRIBUTES.keys()].join(', ')}`)
    }
    attributes.add(a!.name)
    return a!
  }

  /** A string literal compared with an attribute must be a value silver can hold. */
  const matchable = (attr: Expr, literal: Expr) => {
    if (attr.kind !== 'attribute' || literal.kind !== 'string') return
    const a = attribute(attr.name)
    if (!a) return
    const v = literal.value
    const cased = a.letterCase === 'lower' ? v.toLowerCase() : a.letterCase === 'upper' ? v.toUpperCase() : v
    if (cased !== v) fail(literal, `${a.name} is stored in ${a.letterCase} case: '${v}' never matches (write '${cased}')`)
    if (a.known && !a.known.test(v)) fail(literal, `${a.name} is ${a.known.what}: '${v}' never matches`)
  }

  const typeOf = (e: Expr): ValueType => {
    switch (e.kind) {
      case 'number':
        return 'number'
      case 'string':
        return 'string'
      case 'boolean':
        return 'boolean'
      case 'attribute':
        return lookup(e).type
      case 'not':
        expect(e.operand, 'boolean', `'not' needs a condition`)
        return 'boolean'
      case 'negate':
        expect(e.operand, 'number', `'-' needs a number`)
        return 'number'
      case 'logical':
        expect(e.left, 'boolean', `'${e.op}' joins conditions`)
        expect(e.right, 'boolean', `'${e.op}' joins conditions`)
        return 'boolean'
      case 'arith':
        expect(e.left, 'number', `'${e.op}' works on numbers`)
        expect(e.right, 'number', `'${e.op}' works on numbers`)
        return 'number'
      case 'compare': {
        const l = typeOf(e.left)
        const r = typeOf(e.right)
        if (l === 'list' || r === 'list') {
          const side = l === 'list' ? e.left : e.right
          fail(side, `${source(side)} is a list: test membership, as in  'books' in ${source(side)}`)
        }
        if (e.op !== '=' && e.op !== '!=') {
          if (l !== 'number') fail(e.left, `'${e.op}' compares numbers; ${source(e.left)} is ${TYPE_NAME[l]}`)
          if (r !== 'number') fail(e.right, `'${e.op}' compares numbers; ${source(e.right)} is ${TYPE_NAME[r]}`)
        } else if (l !== r) {
          fail(e.right, `cannot compare ${source(e.left)} (${TYPE_NAME[l]}) with ${source(e.right)} (${TYPE_NAME[r]})`)
        }
        matchable(e.left, e.right)
        matchable(e.right, e.left)
        return 'boolean'
      }
      case 'isNull':
        typeOf(e.operand)
        return 'boolean'
      case 'in': {
        const v = typeOf(e.value)
        const t = e.target
        if (t.kind === 'tuple') {
          if (v === 'list') fail(e.value, `${source(e.value)} is a list: test one value in it, as in  'books' in ${source(e.value)}`)
          for (const item of t.items) {
            const it = typeOf(item)
            if (it !== v) fail(item, `${source(item)} is ${TYPE_NAME[it]}, but ${source(e.value)} is ${TYPE_NAME[v]}`)
            matchable(e.value, item)
          }
        } else if (t.kind === 'namedList') {
          if (v !== 'string') fail(e.value, `lists hold text; ${source(e.value)} is ${TYPE_NAME[v]}`)
          if (!listNames.has(t.name)) {
            const known = [...listNames].sort()
            fail(t, `unknown list '${t.name}'${known.length ? `; lists are ${known.join(', ')}` : ' (there are no lists yet)'}`)
          }
          lists.add(t.name)
        } else {
          const a = lookup(t)
          if (a.type !== 'list') fail(t, `${a.name} is ${TYPE_NAME[a.type]}, not a list: write  x in (…)  or  ${a.name} = …`)
          if (v !== 'string') fail(e.value, `${a.name} holds text; ${source(e.value)} is ${TYPE_NAME[v]}`)
          matchable(t, e.value)
        }
        return 'boolean'
      }
    }
  }

  const expect = (e: Expr, want: ValueType, why: string) => {
    const got = typeOf(e)
    if (got !== want) fail(e, `${why}; ${source(e)} is ${TYPE_NAME[got]}`)
  }

  expect(expr, 'boolean', 'a condition must be true or false')
  return { expr, attributes, lists }
}
