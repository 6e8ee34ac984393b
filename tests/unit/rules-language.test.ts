import { describe, expect, it } from 'vitest'
import {
  checkCondition,
  defaultRuleset,
  DefaultRulesetError,
  MAX_CONDITION_LENGTH,
  parseCondition,
  parseRulesetJson,
  readRuleset,
  RuleError,
  RulesetError,
  type Expr
} from '../../src/main/rules'
import { jsonErrorOffset } from '../../src/main/rules/json-position'
import { fraudSettingsSchema } from '../../src/shared/settings'

// The condition language: what parses to what, and every refusal with its kind, position and
// sentence. Positions are 1-based line and column of the offending token.

const LISTS = new Set(['blocked', 'trusted'])

function check(text: string) {
  return checkCondition(text, parseCondition(text), LISTS)
}

function refusal(text: string): RuleError {
  try {
    check(text)
  } catch (err) {
    if (err instanceof RuleError) return err
    throw err
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`)
}

/** A compact, unambiguous rendering of the tree: every operator node parenthesised. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value)
    case 'string':
      return `'${e.value}'`
    case 'boolean':
      return String(e.value)
    case 'attribute':
      return e.name
    case 'not':
      return `(not ${show(e.operand)})`
    case 'negate':
      return `(- ${show(e.operand)})`
    case 'logical':
    case 'compare':
    case 'arith':
      return `(${show(e.left)} ${e.op} ${show(e.right)})`
    case 'isNull':
      return `(${show(e.operand)} is ${e.negated ? 'not ' : ''}null)`
    case 'in': {
      const t = e.target
      const target = t.kind === 'tuple' ? `[${t.items.map(show).join(', ')}]` : t.kind === 'namedList' ? `list(${t.name})` : t.name
      return `(${show(e.value)} ${e.negated ? 'not in' : 'in'} ${target})`
    }
  }
}

describe('parsing', () => {
  it.each([
    ['amount > 5000', '(amount > 5000)'],
    ['a or b and c', '(a or (b and c))'],
    ['not a and b', '((not a) and b)'],
    ['not not a', '(not (not a))'],
    ['a and b and c or d', '(((a and b) and c) or d)'],
    ['1 + 2 * 3 > 4 - 5 - 6', '((1 + (2 * 3)) > ((4 - 5) - 6))'],
    ['amount / 2 % 3 <= -amount', '(((amount / 2) % 3) <= (- amount))'],
    ['(a or b) and c', '((a or b) and c)'],
    ["status in ('cancelled', 'refunded')", "(status in ['cancelled', 'refunded'])"],
    ["status not in ('paid')", "(status not in ['paid'])"],
    ["customer_id in list('blocked')", '(customer_id in list(blocked))'],
    ["'books' not in categories", "('books' not in categories)"],
    ['customer_segment is null', '(customer_segment is null)'],
    ['customer_segment is not null', '(customer_segment is not null)'],
    ['amount <> 1 AND amount != 2 OR NOT true', '(((amount != 1) and (amount != 2)) or (not true))'],
    ['amount > 5_000.25', '(amount > 5000.25)'],
    ["payment_method = 'it''s'", "(payment_method = 'it's')"],
    ['amount\n  >\t5000', '(amount > 5000)']
  ])('%s', (text, tree) => {
    expect(show(parseCondition(text))).toBe(tree)
  })

  it('keeps each node’s span in the source', () => {
    const text = "amount > 5000 and status = 'paid'"
    const e = parseCondition(text)
    expect(e.kind).toBe('logical')
    if (e.kind !== 'logical') return
    expect(text.slice(e.right.start, e.right.end)).toBe("status = 'paid'")
    expect(text.slice(e.left.start, e.left.end)).toBe('amount > 5000')
  })
})

describe('type checking', () => {
  it('accepts every attribute in a condition of its type and reports what it reads', () => {
    const c = check(
      "amount > 1 and currency = 'EUR' and status = 'paid' and channel = 'web' and payment_method = 'gift_card' and " +
        "shipping_country = 'DE' and billing_country != shipping_country and customer_segment = 'vip' and customer_id in list('blocked') and " +
        "account_age_hours < 24 and orders_last_10m >= 3 and items_count > 2 and 'electronics' in categories and order_hour < 6 and " +
        'order_weekday = 7 and is_cross_border'
    )
    expect([...c.attributes].sort()).toEqual(
      [
        'account_age_hours',
        'amount',
        'billing_country',
        'categories',
        'channel',
        'currency',
        'customer_id',
        'customer_segment',
        'is_cross_border',
        'items_count',
        'order_hour',
        'order_weekday',
        'orders_last_10m',
        'payment_method',
        'shipping_country',
        'status'
      ].sort()
    )
    expect([...c.lists]).toEqual(['blocked'])
  })
})

describe('refusals carry their position', () => {
  it.each([
    // [condition, kind, line, column, message]
    ['amount >', 'syntax', 1, 9, /expected a value, found the end of the condition/],
    ['amount > 5000 and', 'syntax', 1, 18, /expected a value/],
    ['amount > 5000 amount', 'syntax', 1, 15, /after a complete condition/],
    ['(amount > 1', 'syntax', 1, 12, /expected '\)' to close the '\(' at line 1, column 1/],
    ['amount in ()', 'syntax', 1, 12, /at least one value/],
    ['1 < 2 < 3', 'syntax', 1, 7, /do not chain/],
    ['a == 3', 'syntax', 1, 3, /use = to compare/],
    ['a && b', 'syntax', 1, 3, /use 'and'/],
    ['a || b', 'syntax', 1, 3, /use 'or'/],
    ['!a', 'syntax', 1, 1, /use 'not'/],
    ['amount ≥ 3', 'syntax', 1, 8, /use >=/],
    ['status = "paid"', 'syntax', 1, 10, /single quotes/],
    ["status = 'paid", 'syntax', 1, 10, /string is not closed/],
    ['amount > 10m', 'syntax', 1, 12, /unexpected 'm' right after the number 10/],
    ['amount > 1e3', 'syntax', 1, 11, /unexpected 'e'/],
    ['amount > 1000000000000001', 'syntax', 1, 10, /too large/],
    ['amount > $1', 'syntax', 1, 10, /unexpected character "\$"/],
    ['null = status', 'syntax', 1, 1, /null can only be tested/],
    ["list('blocked') = 'x'", 'syntax', 1, 1, /can only follow 'in'/],
    ['customer_id in list(blocked)', 'syntax', 1, 21, /list's name in single quotes/],
    ['amount is 5', 'syntax', 1, 11, /expected 'null' after 'is'/],
    ['', 'syntax', 1, 1, /empty/],
    ['lower(status) = \'paid\'', 'syntax', 1, 1, /no function calls/],
    ["status = ''; DROP TABLE silver_orders; --", 'syntax', 1, 12, /unexpected ';'/],
    ["'; DROP TABLE silver_orders; --", 'syntax', 1, 1, /string is not closed/],
    ['amount > 5000\n  and status = \'Paid\'', 'type', 2, 16, /status is stored in lower case: 'Paid' never matches \(write 'paid'\)/],
    ["status = 'payed'", 'type', 1, 10, /status is one of placed, paid, shipped, completed, cancelled, refunded: 'payed' never matches/],
    ["channel in ('web', 'fax')", 'type', 1, 20, /'fax' never matches/],
    ['amount > .5', 'syntax', 1, 10, /needs a digit before its decimal point \(0\.5\)/],
    ["shipping_country = 'de'", 'type', 1, 20, /upper case: 'de' never matches \(write 'DE'\)/],
    ["'de' = billing_country", 'type', 1, 1, /upper case: 'de' never matches/],
    ["shipping_country = 'XX'", 'type', 1, 20, /ISO 3166 alpha-2/],
    ["currency = 'EURO'", 'type', 1, 12, /upper case|ISO 4217/],
    ["'Books' in categories", 'type', 1, 1, /lower case: 'Books' never matches/],
    ['amout > 5', 'type', 1, 1, /unknown attribute 'amout' \(did you mean amount\?\)/],
    ['AMOUNT > 5', 'type', 1, 1, /unknown attribute 'AMOUNT' \(did you mean amount\?\)/],
    ['amount', 'type', 1, 1, /must be true or false; amount is a number/],
    ['amount * 2', 'type', 1, 1, /must be true or false/],
    ["status > 'a'", 'type', 1, 1, /'>' compares numbers; status is text/],
    ["amount = 'x'", 'type', 1, 10, /cannot compare amount \(a number\) with 'x' \(text\)/],
    ["amount + 'x' > 3", 'type', 1, 10, /'\+' works on numbers; 'x' is text/],
    ['not amount', 'type', 1, 5, /'not' needs a condition/],
    ['amount > 1 and 5', 'type', 1, 16, /'and' joins conditions; 5 is a number/],
    ["items_count in (1, 'x')", 'type', 1, 20, /'x' is text, but items_count is a number/],
    ["amount in list('blocked')", 'type', 1, 1, /lists hold text; amount is a number/],
    ["customer_id in list('nope')", 'type', 1, 16, /unknown list 'nope'; lists are blocked, trusted/],
    ["'x' in amount", 'type', 1, 8, /amount is a number, not a list/],
    ["categories = 'books'", 'type', 1, 1, /categories is a list/],
    ["categories in ('books')", 'type', 1, 1, /categories is a list/],
    ['is_cross_border = 1', 'type', 1, 19, /cannot compare/]
  ] as const)('%j', (text, kind, line, column, message) => {
    const err = refusal(text)
    expect(err.detail).toMatch(message)
    expect({ kind: err.kind, line: err.position.line, column: err.position.column }).toEqual({ kind, line, column })
    expect(err.message).toBe(`line ${line}, column ${column}: ${err.detail}`)
  })
})

describe('limits: a huge or deeply nested condition is refused quickly', () => {
  it('refuses a condition over the length limit without reading it', () => {
    const text = 'amount > 1 and '.repeat(1_000_000) + 'true'
    const err = refusal(text)
    expect(err.kind).toBe('limit')
    expect(err.detail).toMatch(/characters long, more than 10,000/)
    expect(err.position.offset).toBe(MAX_CONDITION_LENGTH)
  })

  it('refuses more than 1,000 parts', () => {
    const text = Array.from({ length: 600 }, () => 'amount > 1').join(' or ')
    expect(text.length).toBeLessThan(MAX_CONDITION_LENGTH)
    const err = refusal(text)
    expect(err.kind).toBe('limit')
    expect(err.detail).toMatch(/more than 1000 parts/)
  })

  it.each([
    ['parentheses', '('.repeat(41) + 'true' + ')'.repeat(41)],
    ['not', 'not '.repeat(41) + 'true'],
    ['minus', 'amount > ' + '-'.repeat(41) + '1']
  ])('refuses nesting deeper than 40 (%s)', (_, text) => {
    const err = refusal(text)
    expect(err.kind).toBe('limit')
    expect(err.detail).toMatch(/nested more than 40 levels/)
  })

  it('accepts nesting of exactly 40', () => {
    expect(() => check('('.repeat(40) + 'true' + ')'.repeat(40))).not.toThrow()
  })
})

describe('rulesets', () => {
  const rule = (over: Record<string, unknown> = {}) => ({ id: 'big', description: 'big order', when: 'amount > 5000', points: 4, ...over })

  it('reads the JSON of `rules export`', () => {
    const r = readRuleset(JSON.stringify({ threshold: 3, rules: [rule(), rule({ id: 'vip', when: "customer_segment = 'vip'", points: -2 })] }), new Map())
    expect(r.threshold).toBe(3)
    expect(r.rules.map((x) => [x.id, x.points, [...x.condition.attributes]])).toEqual([
      ['big', 4, ['amount']],
      ['vip', -2, ['customer_segment']]
    ])
  })

  it('names the line and column of a JSON syntax error', () => {
    const text = '{\n  "threshold": 3,\n  "rules": [,]\n}'
    try {
      parseRulesetJson(text)
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(RulesetError)
      const issue = (err as RulesetError).issues[0]
      expect(issue.path).toBe('(json)')
      expect(issue.position).toMatchObject({ line: 3, column: 13 })
      expect(issue.message).toBe(`line 3, column 13: not valid JSON, unexpected ","`)
    }
  })

  it('names every bad field', () => {
    const bad = { threshold: 2.5, rules: [rule({ id: 'Big Order' }), rule({ points: 1.5 }), rule({ id: 'x', colour: 'red' })], extra: 1 }
    try {
      parseRulesetJson(JSON.stringify(bad))
      expect.unreachable()
    } catch (err) {
      const issues = (err as RulesetError).issues.map((i) => `${i.path}: ${i.message}`)
      expect(issues.some((i) => i.startsWith('threshold:'))).toBe(true)
      expect(issues.some((i) => i.startsWith('rules[0].id:') && /lower-case letter/.test(i))).toBe(true)
      expect(issues.some((i) => i.startsWith('rules[1].points:'))).toBe(true)
      expect(issues.some((i) => i.startsWith('rules[2]') && /colour/.test(i))).toBe(true)
      expect(issues.some((i) => /extra/.test(i))).toBe(true)
    }
  })

  it('refuses two rules with one id', () => {
    expect(() => parseRulesetJson(JSON.stringify({ threshold: 3, rules: [rule(), rule({ when: 'amount > 1' })] }))).toThrow(
      "rules[1].id: 'big' is also the id of rules[0]"
    )
  })

  it('reports every bad condition at once, each with its rule and position', () => {
    const text = JSON.stringify({ threshold: 3, rules: [rule({ id: 'a', when: 'amount >' }), rule({ id: 'b' }), rule({ id: 'c', when: "status = 'Paid'" })] })
    try {
      readRuleset(text, new Map())
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(RulesetError)
      expect((err as RulesetError).issues).toEqual([
        { path: 'rules[0].when (a)', message: 'line 1, column 9: expected a value, found the end of the condition', position: { offset: 8, line: 1, column: 9 } },
        {
          path: 'rules[2].when (c)',
          message: "line 1, column 10: status is stored in lower case: 'Paid' never matches (write 'paid')",
          position: { offset: 9, line: 1, column: 10 }
        }
      ])
    }
  })
})

describe('JSON error positions', () => {
  // Every one-character deletion, duplication and replacement of a valid file: the scanner
  // finds an error exactly when JSON.parse does. A control character is invalid anywhere in
  // JSON (even in a string), so one put in is found exactly where it is.
  const valid = JSON.stringify({ threshold: 3, rules: [{ id: 'a', description: 'd "q" \\ \u00e9', when: "x in ('a')", points: -2.5e1 }], n: null, t: true, f: false }, null, 1)
  const variants: string[] = []
  for (let i = 0; i < valid.length; i++) {
    variants.push(valid.slice(0, i) + valid.slice(i + 1))
    variants.push(valid.slice(0, i) + valid[i] + valid.slice(i))
    for (const c of [',', '}', ']', '"', ':', 'x', '0', '-', '\\']) variants.push(valid.slice(0, i) + c + valid.slice(i + 1))
  }

  it('agrees with JSON.parse on which texts are valid', () => {
    const disagree = variants.filter((v) => {
      let ok = true
      try {
        JSON.parse(v)
      } catch {
        ok = false
      }
      return ok !== (jsonErrorOffset(v) === null)
    })
    expect(disagree.slice(0, 3)).toEqual([])
    expect(variants.length).toBeGreaterThan(1000)
  })

  it('points at a character invalid anywhere, wherever it is', () => {
    for (let i = 0; i < valid.length; i++) {
      const v = valid.slice(0, i) + '\u0001' + valid.slice(i + 1)
      expect(jsonErrorOffset(v)).toBe(i)
    }
  })
})

describe('default ruleset', () => {
  it('writes the seven rules with the settings’ weights and checks without lists', () => {
    const fraud = fraudSettingsSchema.parse({ weights: { velocity: 7 }, velocityMinOrders: 4, newAccountHours: 12, newAccountAmount: 1500.005, threshold: 5 })
    const r = defaultRuleset(fraud)
    expect(r.threshold).toBe(5)
    expect(r.rules.map((x) => x.id)).toEqual([
      'amount_over_5000',
      'amount_over_3000',
      'amount_over_2000',
      'cancelled_or_refunded',
      'velocity',
      'new_account_large_order',
      'country_mismatch'
    ])
    expect(r.rules.find((x) => x.id === 'velocity')).toMatchObject({ when: 'orders_last_10m >= 4', points: 7 })
    // the pipeline compares whole cents: 1500.005 is 150001 cents (Math.round), i.e. 1500.01
    expect(r.rules.find((x) => x.id === 'new_account_large_order')!.when).toBe('account_age_hours < 12 and amount > 1500.01')
    expect(() => readRuleset(JSON.stringify(r), new Map())).not.toThrow()
  })

  it('refuses a velocity window orders_last_10m cannot express', () => {
    expect(() => defaultRuleset(fraudSettingsSchema.parse({ velocityWindowMinutes: 15 }))).toThrow(DefaultRulesetError)
  })
})
