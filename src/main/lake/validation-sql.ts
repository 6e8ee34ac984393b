import { MAX_LINE_BYTES, ORDER_STATUSES, CHANNELS, SEGMENTS } from '../../shared/events'

// Validation is one set-based pass in DuckDB: every line is parsed once into a struct of JSON
// values (so a missing field, an explicit null and a wrong type can be told apart), then a CASE
// picks the first problem in a fixed order and turns it into a sentence a person understands.

type JsonKind = 'string' | 'number' | 'integer' | 'array'

interface FieldSpec {
  name: string
  kind: JsonKind
}

const KIND_TYPES: Record<JsonKind, string> = {
  string: `('VARCHAR')`,
  number: `('BIGINT','UBIGINT','DOUBLE')`,
  integer: `('BIGINT','UBIGINT')`,
  array: `('ARRAY')`
}
const KIND_WORDS: Record<JsonKind, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  array: 'an array'
}

export const ORDER_FIELDS: FieldSpec[] = [
  { name: 'order_id', kind: 'string' },
  { name: 'customer_id', kind: 'string' },
  { name: 'order_ts', kind: 'string' },
  { name: 'status', kind: 'string' },
  { name: 'currency', kind: 'string' },
  { name: 'total_amount', kind: 'number' },
  { name: 'items', kind: 'array' },
  { name: 'payment_method', kind: 'string' },
  { name: 'shipping_country', kind: 'string' },
  { name: 'billing_country', kind: 'string' },
  { name: 'channel', kind: 'string' }
]

export const CUSTOMER_FIELDS: FieldSpec[] = [
  { name: 'customer_id', kind: 'string' },
  { name: 'name', kind: 'string' },
  { name: 'email', kind: 'string' },
  { name: 'signup_ts', kind: 'string' },
  { name: 'country', kind: 'string' },
  { name: 'segment', kind: 'string' }
]

const ITEM_FIELDS: FieldSpec[] = [
  { name: 'product_id', kind: 'string' },
  { name: 'product_name', kind: 'string' },
  { name: 'category', kind: 'string' },
  { name: 'quantity', kind: 'integer' },
  { name: 'unit_price', kind: 'number' }
]

const sqlList = (values: readonly string[]) => `(${values.map((v) => `'${v}'`).join(',')})`

export function jsonStructSpec(fields: FieldSpec[]): string {
  return `'{${fields.map((f) => `"${f.name}":"JSON"`).join(',')}}'`
}

/** CASE arms for "missing field X" and "wrong type for X" over struct column `f`. */
function presenceAndTypeArms(fields: FieldSpec[], col: (name: string) => string): string[] {
  const missing = fields.map(
    (f) => `WHEN ${col(f.name)} IS NULL OR json_type(${col(f.name)}) = 'NULL' THEN 'missing field ${f.name}'`
  )
  const wrong = fields.map(
    (f) =>
      `WHEN json_type(${col(f.name)}) NOT IN ${KIND_TYPES[f.kind]} THEN 'wrong type for ${f.name}: expected ${KIND_WORDS[f.kind]}, got ' || lower(json_type(${col(f.name)}))`
  )
  return [...missing, ...wrong]
}

const ISO_WITH_OFFSET = `'^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}(:?\\d{2})?)$'`

/** The trimmed string value of a JSON column (the unnested field `name`). */
const str = (name: string) => `trim("${name}"->>'$')`
const col = (name: string) => `"${name}"`

/** Column spec turning `items` into a list of item structs whose fields are JSON values. */
export const ITEMS_SPEC = `'[${jsonStructSpec(ITEM_FIELDS).slice(1, -1)}]'`

/** First problem among the items (`items_f`, from ITEMS_SPEC), or NULL. */
function itemProblem(): string {
  const field = (n: string) => `x.${n}`
  const checks = [
    ...ITEM_FIELDS.map(
      (f) => `WHEN ${field(f.name)} IS NULL OR json_type(${field(f.name)}) = 'NULL' THEN 'items[' || (i - 1) || '] is missing ${f.name}'`
    ),
    ...ITEM_FIELDS.map(
      (f) =>
        `WHEN json_type(${field(f.name)}) NOT IN ${KIND_TYPES[f.kind]} THEN 'wrong type for items[' || (i - 1) || '].${f.name}: expected ${KIND_WORDS[f.kind]}'`
    ),
    `WHEN (x.quantity)::HUGEINT < 1 THEN 'items[' || (i - 1) || '].quantity must be at least 1'`,
    `WHEN (x.unit_price)::DOUBLE < 0 THEN 'items[' || (i - 1) || '].unit_price is negative'`
  ]
  return `list_filter(list_transform(items_f, (x, i) -> CASE WHEN x IS NULL THEN 'items[' || (i - 1) || '] is not an object' ${checks.join(' ')} END), p -> p IS NOT NULL)[1]`
}

/**
 * Expression producing `reason` (NULL = valid) for order lines. Expects columns `raw`, `j`
 * (parsed JSON or NULL), one JSON column per order field, `items_f` (ITEMS_SPEC) and `item_problem`.
 */
export function orderReasonSql(): string {
  return `CASE
    WHEN strlen(raw) > ${MAX_LINE_BYTES} THEN 'line over 1 MiB (' || strlen(raw) || ' bytes)'
    WHEN j IS NULL THEN 'malformed JSON'
    WHEN json_type(j) <> 'OBJECT' THEN 'not a JSON object (got ' || lower(json_type(j)) || ')'
    ${presenceAndTypeArms(ORDER_FIELDS, col).join('\n    ')}
    WHEN ${str('order_id')} = '' THEN 'order_id is empty'
    WHEN ${str('customer_id')} = '' THEN 'customer_id is empty'
    WHEN NOT regexp_matches(${str('order_ts')}, ${ISO_WITH_OFFSET}) OR try_cast(${str('order_ts')} AS TIMESTAMPTZ) IS NULL
      THEN 'order_ts is not an ISO-8601 timestamp with offset: ' || left(${str('order_ts')}, 60)
    WHEN lower(${str('status')}) NOT IN ${sqlList(ORDER_STATUSES)} THEN 'unknown status: ' || left(${str('status')}, 60)
    WHEN NOT regexp_matches(${str('currency')}, '^[A-Za-z]{3}$') THEN 'currency must be 3 letters, got: ' || left(${str('currency')}, 60)
    WHEN total_amount::DOUBLE < 0 THEN 'negative amount: total_amount = ' || total_amount::VARCHAR
    WHEN NOT regexp_matches(${str('shipping_country')}, '^[A-Za-z]{2}$') THEN 'shipping_country must be an ISO alpha-2 code, got: ' || left(${str('shipping_country')}, 60)
    WHEN NOT regexp_matches(${str('billing_country')}, '^[A-Za-z]{2}$') THEN 'billing_country must be an ISO alpha-2 code, got: ' || left(${str('billing_country')}, 60)
    WHEN lower(${str('channel')}) NOT IN ${sqlList(CHANNELS)} THEN 'unknown channel: ' || left(${str('channel')}, 60)
    WHEN items_f IS NULL THEN 'items must be an array of objects'
    WHEN len(items_f) = 0 THEN 'items is empty'
    WHEN item_problem IS NOT NULL THEN item_problem
    WHEN abs(total_amount::DOUBLE - items_sum) > 0.01 + 1e-9
      THEN 'total differs from the sum of items by more than 0.01: total_amount = ' || total_amount::VARCHAR || ', items sum to ' || round(items_sum, 2)::VARCHAR
  END`
}

export function customerReasonSql(): string {
  return `CASE
    WHEN strlen(raw) > ${MAX_LINE_BYTES} THEN 'line over 1 MiB (' || strlen(raw) || ' bytes)'
    WHEN j IS NULL THEN 'malformed JSON'
    WHEN json_type(j) <> 'OBJECT' THEN 'not a JSON object (got ' || lower(json_type(j)) || ')'
    ${presenceAndTypeArms(CUSTOMER_FIELDS, col).join('\n    ')}
    WHEN ${str('customer_id')} = '' THEN 'customer_id is empty'
    WHEN NOT regexp_matches(${str('signup_ts')}, ${ISO_WITH_OFFSET}) OR try_cast(${str('signup_ts')} AS TIMESTAMPTZ) IS NULL
      THEN 'signup_ts is not an ISO-8601 timestamp with offset: ' || left(${str('signup_ts')}, 60)
    WHEN lower(${str('segment')}) NOT IN ${sqlList(SEGMENTS)} THEN 'unknown segment: ' || left(${str('segment')}, 60)
    WHEN NOT regexp_matches(${str('country')}, '^[A-Za-z]{2}$') THEN 'country must be an ISO alpha-2 code, got: ' || left(${str('country')}, 60)
  END`
}

export { str as jsonString }

/** Per-line item checks, computed once per line (UNNEST of a one-element list runs once). */
export function itemColumnsSql(): string {
  return `unnest([${itemProblem()}]) AS item_problem,
    unnest([list_sum(list_transform(items_f, x -> x.quantity::DOUBLE * x.unit_price::DOUBLE))]) AS items_sum`
}
