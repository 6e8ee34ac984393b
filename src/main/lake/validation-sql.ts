import { MAX_LINE_BYTES, ORDER_STATUSES, CHANNELS, SEGMENTS } from '../../shared/events'

// Validation is one set-based pass in DuckDB. Each line is parsed once into JSON-typed fields
// (so a missing field, an explicit null and a wrong type can be told apart); the JSON type and
// trimmed text of every field are computed once per line through UNNEST of a struct (a plain
// expression would be re-evaluated by every column that refers to it); then a CASE picks the
// first problem in a fixed order and turns it into a sentence a person understands.

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

// Bounds that keep every amount exact in DECIMAL(18,2) and BIGINT cents.
const MAX_AMOUNT = 1e12
const MAX_QUANTITY = 1_000_000

const sqlList = (values: readonly string[]) => `(${values.map((v) => `'${v}'`).join(',')})`

function jsonStructSpec(fields: FieldSpec[]): string {
  return `'{${fields.map((f) => `"${f.name}":"JSON"`).join(',')}}'`
}

const ITEMS_SPEC = `'[${jsonStructSpec(ITEM_FIELDS).slice(1, -1)}]'`
const ISO_WITH_OFFSET = `'^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}(:?\\d{2})?)$'`

const t = (name: string) => `t_${name}`
/** The trimmed text of a string field (a column of the validation CTEs). */
export const fieldText = (name: string) => `s_${name}`

/** One projection computing each field's JSON type and trimmed text once. */
function fieldColumns(fields: FieldSpec[]): string {
  return fields
    .flatMap((fl) => [
      `coalesce(json_type(f.${fl.name}), 'NULL') AS t_${fl.name}`,
      ...(fl.kind === 'string' ? [`trim(f.${fl.name}->>'$') AS s_${fl.name}`] : [])
    ])
    .join(', ')
}

/** True when every field is present with its JSON type: the common case, checked at once. */
function allTypesOk(fields: FieldSpec[]): string {
  return fields.map((fl) => (fl.kind === 'string' || fl.kind === 'array' ? `${t(fl.name)} = ${KIND_TYPES[fl.kind].slice(1, -1)}` : `${t(fl.name)} IN ${KIND_TYPES[fl.kind]}`)).join(' AND ')
}

/** One arm: only lines failing the cheap all-types check pay for finding which field is wrong. */
function presenceAndTypeArms(fields: FieldSpec[]): string[] {
  const detail = [
    ...fields.map((fl) => `WHEN ${t(fl.name)} = 'NULL' THEN 'missing field ${fl.name}'`),
    ...fields.map(
      (fl) =>
        `WHEN ${t(fl.name)} NOT IN ${KIND_TYPES[fl.kind]} THEN 'wrong type for ${fl.name}: expected ${KIND_WORDS[fl.kind]}, got ' || ${jsonWord(t(fl.name))}`
    )
  ]
  return [`WHEN NOT (${allTypesOk(fields)}) THEN CASE ${detail.join(' ')} END`]
}

/** DuckDB's JSON type names in the words of JSON, for reasons people read. */
const jsonWord = (t: string) =>
  `CASE ${t} WHEN 'VARCHAR' THEN 'a string' WHEN 'BIGINT' THEN 'a number' WHEN 'UBIGINT' THEN 'a number'
    WHEN 'DOUBLE' THEN 'a number' WHEN 'BOOLEAN' THEN 'a boolean' WHEN 'ARRAY' THEN 'an array'
    WHEN 'OBJECT' THEN 'an object' WHEN 'NULL' THEN 'null' ELSE lower(${t}) END`

const headArms = `WHEN strlen(raw) > ${MAX_LINE_BYTES} THEN 'line over 1 MiB (' || strlen(raw) || ' bytes)'
    WHEN starts_with(raw, chr(65279)) THEN 'line starts with a byte order mark (BOM); save the file as UTF-8 without BOM'
    WHEN j IS NULL THEN 'malformed JSON'
    WHEN json_type(j) <> 'OBJECT' THEN 'not a JSON object (got ' || ${jsonWord('json_type(j)')} || ')'`

/** First problem among the items (`items_f`), or NULL. */
function itemProblem(): string {
  const checks = [
    ...ITEM_FIELDS.map(
      (f) => `WHEN x.${f.name} IS NULL OR json_type(x.${f.name}) = 'NULL' THEN 'items[' || (i - 1) || '] is missing ${f.name}'`
    ),
    ...ITEM_FIELDS.map(
      (f) =>
        `WHEN json_type(x.${f.name}) NOT IN ${KIND_TYPES[f.kind]} THEN 'wrong type for items[' || (i - 1) || '].${f.name}: expected ${KIND_WORDS[f.kind]}'`
    ),
    `WHEN (x.quantity)::DOUBLE < 1 THEN 'items[' || (i - 1) || '].quantity must be at least 1'`,
    `WHEN (x.quantity)::DOUBLE > ${MAX_QUANTITY} THEN 'items[' || (i - 1) || '].quantity is too large (at most ${MAX_QUANTITY})'`,
    `WHEN NOT isfinite((x.unit_price)::DOUBLE) THEN 'items[' || (i - 1) || '].unit_price is not a finite number'`,
    `WHEN (x.unit_price)::DOUBLE < 0 THEN 'items[' || (i - 1) || '].unit_price is negative'`,
    `WHEN (x.unit_price)::DOUBLE > ${MAX_AMOUNT} THEN 'items[' || (i - 1) || '].unit_price is too large (at most ${MAX_AMOUNT})'`
  ]
  const notObject = `WHEN coalesce(json_type(items_raw[i]), 'NULL') <> 'OBJECT' THEN 'items[' || (i - 1) || '] is not an object (got ' || lower(coalesce(json_type(items_raw[i]), 'NULL')) || ')'`
  return `list_filter(list_transform(items_f, (x, i) -> CASE ${notObject} ${checks.join(' ')} END), p -> p IS NOT NULL)[1]`
}

const TYPED_NAMES: Record<JsonKind, string> = { string: 'VARCHAR', number: 'DOUBLE', integer: 'BIGINT', array: 'JSON' }

/** A typed from_json spec; `items` gets its own typed element spec. */
function typedSpec(fields: FieldSpec[]): string {
  const items = `[{${ITEM_FIELDS.map((f) => `"${f.name}":"${TYPED_NAMES[f.kind]}"`).join(',')}}]`
  return `'{${fields.map((f) => `"${f.name}":${f.name === 'items' ? items : `"${TYPED_NAMES[f.kind]}"`}`).join(',')}}'`
}

/**
 * The common case, checked cheaply: a typed parse `o` (which coerces types leniently) plus the
 * JSON types of every field read in one json_type call, plus the value checks on typed values.
 * Only lines failing this gate pay for the field-by-field diagnosis. It must never accept a
 * line the diagnosis would reject; the quarantine tests hold it to that.
 */
function fastGate(fields: FieldSpec[], valueChecks: string[]): string {
  const typeChecks = fields.map((f, i) => `tys[${i + 1}] IN ${KIND_TYPES[f.kind]}`)
  const hasItems = fields.some((f) => f.name === 'items')
  const itemChecks = hasItems
    ? [
        'len(o.items) > 0',
        ...ITEM_FIELDS.map(
          (f) => `len(it_${f.name}) = len(o.items) AND list_bool_and(list_transform(it_${f.name}, x -> coalesce(x IN ${KIND_TYPES[f.kind]}, false)))`
        )
      ]
    : []
  return `coalesce(o IS NOT NULL AND ${[...typeChecks, ...itemChecks, ...valueChecks].join('\n    AND ')}, false)`
}

/** JSON types of every field (one json_type call) and of every item field, for the gate. */
function typeColumns(fields: FieldSpec[]): string {
  const paths = `[${fields.map((f) => `'$.${f.name}'`).join(',')}]`
  const cols = [`CASE WHEN o IS NOT NULL THEN json_type(raw, ${paths}) END AS tys`]
  if (fields.some((f) => f.name === 'items')) {
    for (const f of ITEM_FIELDS) cols.push(`CASE WHEN o IS NOT NULL THEN json_type(raw, '$.items[*].${f.name}') END AS it_${f.name}`)
  }
  return cols.join(', ')
}

const typedText = (name: string) => `trim(o.${name})`

/** Parses each line: typed `o` and the gate for all; `j`/`f` (JSON values) only for the rest. */
function parseCtes(fields: FieldSpec[], valueChecks: string[], extra = ''): string {
  return `p AS (SELECT *, CASE WHEN strlen(raw) <= ${MAX_LINE_BYTES} THEN try(from_json(raw, ${typedSpec(fields)})) END AS o FROM src),
    p2 AS (SELECT *, ${typeColumns(fields)} FROM p),
    g AS (SELECT *, ${fastGate(fields, valueChecks)} AS fast_ok FROM p2),
    q0 AS (SELECT *, CASE WHEN NOT fast_ok AND strlen(raw) <= ${MAX_LINE_BYTES} THEN try(json(raw)) END AS j FROM g),
    q1 AS (SELECT *, CASE WHEN json_type(j) = 'OBJECT' THEN from_json(j, ${jsonStructSpec(fields)}) END AS f FROM q0),
    q AS (SELECT *, ${fieldColumns(fields)} FROM q1)${extra}`
}

const orderValueChecks = [
  `${typedText('order_id')} <> ''`,
  `${typedText('customer_id')} <> ''`,
  `regexp_matches(${typedText('order_ts')}, ${ISO_WITH_OFFSET})`,
  `try_cast(${typedText('order_ts')} AS TIMESTAMPTZ) IS NOT NULL`,
  `lower(${typedText('status')}) IN ${sqlList(ORDER_STATUSES)}`,
  `regexp_matches(${typedText('currency')}, '^[A-Za-z]{3}$')`,
  `isfinite(o.total_amount) AND o.total_amount >= 0 AND o.total_amount <= ${MAX_AMOUNT}`,
  `regexp_matches(${typedText('shipping_country')}, '^[A-Za-z]{2}$')`,
  `regexp_matches(${typedText('billing_country')}, '^[A-Za-z]{2}$')`,
  `lower(${typedText('channel')}) IN ${sqlList(CHANNELS)}`,
  `list_bool_and(list_transform(o.items, x -> x.quantity BETWEEN 1 AND ${MAX_QUANTITY} AND isfinite(x.unit_price) AND x.unit_price BETWEEN 0 AND ${MAX_AMOUNT}))`,
  `abs(o.total_amount - list_sum(list_transform(o.items, x -> x.quantity * x.unit_price))) <= 0.01 + 1e-9`
]

const customerValueChecks = [
  `${typedText('customer_id')} <> ''`,
  `regexp_matches(${typedText('signup_ts')}, ${ISO_WITH_OFFSET})`,
  `try_cast(${typedText('signup_ts')} AS TIMESTAMPTZ) IS NOT NULL`,
  `lower(${typedText('segment')}) IN ${sqlList(SEGMENTS)}`,
  `regexp_matches(${typedText('country')}, '^[A-Za-z]{2}$')`
]

/**
 * CTEs from `src` (raw, source, offsets, pos) to `v`, which adds `reason` (NULL = valid); the
 * cleaned values come from the typed struct `o`. Reference `reason` as few times as possible:
 * DuckDB may inline it.
 */
export function orderValidationCtes(): string {
  const ts = `try_cast(${fieldText('order_ts')} AS TIMESTAMPTZ)`
  const amount = `try_cast(f.total_amount AS DOUBLE)`
  const itemsSum = `list_sum(list_transform(items_f, x -> try_cast(x.quantity AS DOUBLE) * try_cast(x.unit_price AS DOUBLE)))`
  return `${parseCtes(ORDER_FIELDS, orderValueChecks, `,
    r AS (SELECT *, CASE WHEN t_items = 'ARRAY' THEN try(from_json(f.items, ${ITEMS_SPEC})) END AS items_f,
      CASE WHEN t_items = 'ARRAY' THEN from_json(f.items, '["JSON"]') END AS items_raw FROM q)`)},
    v AS (SELECT *, CASE WHEN fast_ok THEN NULL ELSE CASE
      ${headArms}
      ${presenceAndTypeArms(ORDER_FIELDS).join('\n      ')}
      WHEN ${fieldText('order_id')} = '' THEN 'order_id is empty'
      WHEN ${fieldText('customer_id')} = '' THEN 'customer_id is empty'
      WHEN ${ts} IS NULL OR NOT regexp_matches(${fieldText('order_ts')}, ${ISO_WITH_OFFSET})
        THEN 'order_ts is not an ISO-8601 timestamp with offset: ' || left(${fieldText('order_ts')}, 60)
      WHEN lower(${fieldText('status')}) NOT IN ${sqlList(ORDER_STATUSES)} THEN 'unknown status: ' || left(${fieldText('status')}, 60)
      WHEN NOT regexp_matches(${fieldText('currency')}, '^[A-Za-z]{3}$') THEN 'currency must be 3 letters, got: ' || left(${fieldText('currency')}, 60)
      WHEN NOT isfinite(${amount}) THEN 'total_amount is not a finite number'
      WHEN ${amount} < 0 THEN 'negative amount: total_amount = ' || f.total_amount::VARCHAR
      WHEN ${amount} > ${MAX_AMOUNT} THEN 'total_amount is too large (at most ${MAX_AMOUNT}): ' || f.total_amount::VARCHAR
      WHEN NOT regexp_matches(${fieldText('shipping_country')}, '^[A-Za-z]{2}$') THEN 'shipping_country must be an ISO alpha-2 code, got: ' || left(${fieldText('shipping_country')}, 60)
      WHEN NOT regexp_matches(${fieldText('billing_country')}, '^[A-Za-z]{2}$') THEN 'billing_country must be an ISO alpha-2 code, got: ' || left(${fieldText('billing_country')}, 60)
      WHEN lower(${fieldText('channel')}) NOT IN ${sqlList(CHANNELS)} THEN 'unknown channel: ' || left(${fieldText('channel')}, 60)
      WHEN items_f IS NULL THEN 'items must be an array of objects'
      WHEN len(items_f) = 0 THEN 'items is empty'
      WHEN ${itemProblem()} IS NOT NULL THEN ${itemProblem()}
      WHEN abs(${amount} - ${itemsSum}) > 0.01 + 1e-9
        THEN 'total differs from the sum of items by more than 0.01: total_amount = ' || f.total_amount::VARCHAR || ', items sum to ' || round(${itemsSum}, 2)::VARCHAR
    END END AS reason FROM r)`
}

export function customerValidationCtes(): string {
  const ts = `try_cast(${fieldText('signup_ts')} AS TIMESTAMPTZ)`
  return `${parseCtes(CUSTOMER_FIELDS, customerValueChecks)},
    v AS (SELECT *, CASE WHEN fast_ok THEN NULL ELSE CASE
      ${headArms}
      ${presenceAndTypeArms(CUSTOMER_FIELDS).join('\n      ')}
      WHEN ${fieldText('customer_id')} = '' THEN 'customer_id is empty'
      WHEN ${ts} IS NULL OR NOT regexp_matches(${fieldText('signup_ts')}, ${ISO_WITH_OFFSET})
        THEN 'signup_ts is not an ISO-8601 timestamp with offset: ' || left(${fieldText('signup_ts')}, 60)
      WHEN lower(${fieldText('segment')}) NOT IN ${sqlList(SEGMENTS)} THEN 'unknown segment: ' || left(${fieldText('segment')}, 60)
      WHEN NOT regexp_matches(${fieldText('country')}, '^[A-Za-z]{2}$') THEN 'country must be an ISO alpha-2 code, got: ' || left(${fieldText('country')}, 60)
    END END AS reason FROM q)`
}

/** The cleaned value of a field, from the typed parse. */
export { typedText }
