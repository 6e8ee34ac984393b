import { MAX_LINE_BYTES, ORDER_STATUSES, CHANNELS, SEGMENTS } from '../../shared/events'
import { ISO_3166_ALPHA2, ISO_4217_CODES, isCurrencyCode } from '../../shared/iso-codes'

// Validation is one set-based pass in DuckDB. Each line is parsed ONCE into a struct of JSON
// texts (so a missing field, an explicit null and a wrong type can be told apart). The common
// case — every field present with the right type and value — is recognised by cheap checks on
// those texts (a JSON string starts with a quote, a number with a digit or minus sign). Only
// lines failing that gate get the field-by-field diagnosis: a CASE that picks the first problem
// in a fixed order and turns it into a sentence a person understands.

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
// DuckDB's cast takes any year (0000 becomes 1 BC) and any offset (+99:99 shifts a time by four
// days). The diagnosis tells the three apart; the gate checks all three at once. Of a string
// ISO_WITH_OFFSET matches, YEAR_OK sees its year and OFFSET_OK exactly its offset, so the gate's
// TIMESTAMP_OK holds exactly when all three do.
const YEAR = '(19\\d\\d|[2-9]\\d{3})'
const OFFSET = '(Z|[+-]((0\\d|1[0-3])(:?[0-5]\\d)?|14(:?00)?))'
const YEAR_OK = `'^${YEAR}-'`
const OFFSET_OK = `'${OFFSET}$'`
const TIMESTAMP_OK = `'^${YEAR}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?${OFFSET}$'`

/**
 * `x` (any text) is an ISO 3166-1 alpha-2 code, in any case. A lookup in a bitmap of the 676
 * two-letter combinations: the gate runs it twice per order, and an IN list of 249 strings
 * costs several times more per row.
 */
function isCountry(x: string): string {
  const bits = Array.from({ length: 26 * 26 }, (_, i) =>
    ISO_3166_ALPHA2.includes(String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26))) ? '1' : '0'
  ).join('')
  const u = `upper(${x})`
  return `CASE WHEN regexp_full_match(${x}, '[A-Za-z]{2}') THEN get_bit('${bits}'::BIT, (ascii(${u}) - 65) * 26 + ascii(${u}[2]) - 65) = 1 ELSE false END`
}

/** What validation needs to know beyond the line: the clock and the currencies with a rate. */
export interface ValidationContext {
  /** This machine's clock when the batch validates its lines (ISO 8601). */
  clock: string
  /** Event times later than `clock` + this are quarantined. */
  maxFutureSkewMinutes: number
  /** Currencies an order may be in: those with a rate, the reporting currency included. */
  ratedCurrencies: readonly string[]
  reportingCurrency: string
  /**
   * false: every line gets the field-by-field diagnosis. The gate only spares valid lines that
   * work; tests run both ways and compare.
   */
  gate?: boolean
}

/** The latest event time accepted, as SQL. */
const latestAccepted = (ctx: Pick<ValidationContext, 'clock' | 'maxFutureSkewMinutes'>) =>
  `TIMESTAMPTZ '${new Date(Date.parse(ctx.clock) + Math.round(ctx.maxFutureSkewMinutes * 60_000)).toISOString()}'`

/** Diagnosis arms for an event-time field, after its presence and type. */
function timestampArms(field: string, ctx: Pick<ValidationContext, 'clock' | 'maxFutureSkewMinutes'>): string {
  const s = `s_${field}`
  const shown = `left(${s}, 60)`
  return `WHEN try_cast(${s} AS TIMESTAMPTZ) IS NULL OR NOT regexp_matches(${s}, ${ISO_WITH_OFFSET})
        THEN '${field} is not an ISO-8601 timestamp with offset: ' || ${shown}
      WHEN NOT regexp_matches(${s}, ${YEAR_OK}) THEN '${field} has year ' || left(${s}, 4) || ', outside 1900–9999: ' || ${shown}
      WHEN NOT regexp_matches(${s}, ${OFFSET_OK})
        THEN '${field} has offset ' || regexp_extract(${s}, '[+-][0-9:]+$') || ', outside -14:00 to +14:00: ' || ${shown}
      WHEN try_cast(${s} AS TIMESTAMPTZ) > ${latestAccepted(ctx)}
        THEN '${field} ' || ${shown} || ' is more than ${ctx.maxFutureSkewMinutes} min ahead of this machine''s clock at ingest (${ctx.clock}); the limit is pipeline.maxFutureSkewMinutes = ${ctx.maxFutureSkewMinutes}'`
}

/** Gate checks for an event-time field: the conjunction of timestampArms' conditions. */
const timestampGate = (field: string, ctx: Pick<ValidationContext, 'clock' | 'maxFutureSkewMinutes'>) => [
  `regexp_matches(s_${field}, ${TIMESTAMP_OK})`,
  `try_cast(s_${field} AS TIMESTAMPTZ) <= ${latestAccepted(ctx)}`
]

/** The text of a JSON string value; skips the JSON parser when there is no escape in it. */
const jsonStr = (x: string) => `CASE WHEN contains(${x}, '\\') THEN ${x}->>'$' ELSE (${x}::VARCHAR)[2:-2] END`
/** A JSON number as DOUBLE (through its text: cheaper than a JSON cast). */
const jsonNum = (x: string) => `try_cast(${x}::VARCHAR AS DOUBLE)`

/** Cheap type tests on JSON texts; NULL (absent) is false. */
const IS: Record<JsonKind, (x: string) => string> = {
  string: (x) => `starts_with(${x}, '"')`,
  number: (x) => `regexp_full_match(left(${x}, 1), '[-0-9]')`,
  integer: (x) => `regexp_full_match(${x}::VARCHAR, '-?[0-9]+')`,
  array: (x) => `starts_with(${x}, '[')`
}

/** The trimmed text of a string field (a column of the validation CTEs). */
export const fieldText = (name: string) => `s_${name}`

const jt = (x: string) => `coalesce(json_type(${x}), 'NULL')`

/** DuckDB's JSON type names in the words of JSON, for reasons people read. */
const jsonWord = (t: string) =>
  `CASE ${t} WHEN 'VARCHAR' THEN 'a string' WHEN 'BIGINT' THEN 'a number' WHEN 'UBIGINT' THEN 'a number'
    WHEN 'DOUBLE' THEN 'a number' WHEN 'BOOLEAN' THEN 'a boolean' WHEN 'ARRAY' THEN 'an array'
    WHEN 'OBJECT' THEN 'an object' WHEN 'NULL' THEN 'null' ELSE lower(${t}) END`

/** `texts`: a column holding a field's JSON text, for a field `f` holds parsed. */
function presenceAndTypeArms(fields: FieldSpec[], texts: Record<string, string> = {}): string[] {
  const text = (name: string) => texts[name] ?? `f.${name}`
  return [
    ...fields.map((fl) => `WHEN ${jt(text(fl.name))} = 'NULL' THEN 'missing field ${fl.name}'`),
    ...fields.map(
      (fl) =>
        `WHEN ${jt(text(fl.name))} NOT IN ${KIND_TYPES[fl.kind]} THEN 'wrong type for ${fl.name}: expected ${KIND_WORDS[fl.kind]}, got ' || ${jsonWord(jt(text(fl.name)))}`
    )
  ]
}

const headArms = `WHEN strlen(raw) > ${MAX_LINE_BYTES} THEN 'line over 1 MiB (' || strlen(raw) || ' bytes)'
    WHEN starts_with(raw, chr(65279)) THEN 'line starts with a byte order mark (BOM); save the file as UTF-8 without BOM'
    WHEN try(json(raw)) IS NULL THEN 'malformed JSON'
    WHEN json_type(raw) <> 'OBJECT' THEN 'not a JSON object (got ' || ${jsonWord('json_type(raw)')} || ')'`

/** First problem among the items (`items_f`, JSON texts; `items_raw`, the elements), or NULL. */
function itemProblem(): string {
  const checks = [
    ...ITEM_FIELDS.map((f) => `WHEN ${jt(`x.${f.name}`)} = 'NULL' THEN 'items[' || (i - 1) || '] is missing ${f.name}'`),
    ...ITEM_FIELDS.map(
      (f) =>
        `WHEN ${jt(`x.${f.name}`)} NOT IN ${KIND_TYPES[f.kind]} THEN 'wrong type for items[' || (i - 1) || '].${f.name}: expected ${KIND_WORDS[f.kind]}'`
    ),
    `WHEN ${jsonNum('x.quantity')} < 1 THEN 'items[' || (i - 1) || '].quantity must be at least 1'`,
    `WHEN ${jsonNum('x.quantity')} > ${MAX_QUANTITY} THEN 'items[' || (i - 1) || '].quantity is too large (at most ${MAX_QUANTITY})'`,
    `WHEN NOT isfinite(${jsonNum('x.unit_price')}) THEN 'items[' || (i - 1) || '].unit_price is not a finite number'`,
    `WHEN ${jsonNum('x.unit_price')} < 0 THEN 'items[' || (i - 1) || '].unit_price is negative'`,
    `WHEN ${jsonNum('x.unit_price')} > ${MAX_AMOUNT} THEN 'items[' || (i - 1) || '].unit_price is too large (at most ${MAX_AMOUNT})'`
  ]
  const notObject = `WHEN ${jt('items_raw[i]')} <> 'OBJECT' THEN 'items[' || (i - 1) || '] is not an object (got ' || ${jsonWord(jt('items_raw[i]'))} || ')'`
  return `list_filter(list_transform(items_f, (x, i) -> CASE ${notObject} ${checks.join(' ')} END), p -> p IS NOT NULL)[1]`
}

/** s_<field>: the trimmed text of every string field, computed once per line. */
function textColumns(fields: FieldSpec[]): string {
  return fields
    .filter((fl) => fl.kind === 'string')
    .map((fl) => `trim(${jsonStr(`f.${fl.name}`)}) AS s_${fl.name}`)
    .join(', ')
}

/**
 * Parses each line once (`f`: a struct of JSON texts, NULL unless the line is a JSON object)
 * and computes `fast_ok`, the common case. It must never accept a line the diagnosis would
 * reject; the quarantine tests hold it to that. `nested`: fields `f` holds already parsed (its
 * spec and the gate's type check for it), for a field whose JSON text only the diagnosis needs.
 */
function parseCtes(
  fields: FieldSpec[],
  gateChecks: string[],
  gate: boolean,
  extra = '',
  nested: { name: string; spec: string; isParsed: string } | null = null
): string {
  const typeChecks = fields.map((fl) => (fl.name === nested?.name ? nested.isParsed : IS[fl.kind](`f.${fl.name}`)))
  const fastOk = gate ? `coalesce(f IS NOT NULL AND ${[...typeChecks, ...gateChecks].join('\n      AND ')}, false)` : 'false'
  const spec = nested
    ? `'{${fields.map((f) => (f.name === nested.name ? `"${f.name}":${nested.spec}` : `"${f.name}":"JSON"`)).join(',')}}'`
    : jsonStructSpec(fields)
  return `p AS (SELECT *, CASE WHEN strlen(raw) <= ${MAX_LINE_BYTES} THEN try(from_json(raw, ${spec})) END AS f FROM src),
    q AS (SELECT *, ${textColumns(fields)}${extra} FROM p),
    g AS (SELECT *, ${fastOk} AS fast_ok FROM q)`
}

const amount = jsonNum('f.total_amount')
const itemsSum = `list_sum(list_transform(items_f, x -> ${jsonNum('x.quantity')} * ${jsonNum('x.unit_price')}))`

const orderGate = (ctx: ValidationContext) => [
  `len(items_f) > 0`,
  // coalesce: an element that is not an object parses to NULLs, and list_bool_and skips a NULL
  `list_bool_and(list_transform(items_f, x -> coalesce(${IS.string('x.product_id')} AND ${IS.string('x.product_name')} AND ${IS.string('x.category')}
      AND ${IS.integer('x.quantity')} AND ${IS.number('x.unit_price')}
      AND ${jsonNum('x.quantity')} BETWEEN 1 AND ${MAX_QUANTITY}
      AND isfinite(${jsonNum('x.unit_price')}) AND ${jsonNum('x.unit_price')} BETWEEN 0 AND ${MAX_AMOUNT}, false)))`,
  `s_order_id <> ''`,
  `s_customer_id <> ''`,
  ...timestampGate('order_ts', ctx),
  `lower(s_status) IN ${sqlList(ORDER_STATUSES)}`,
  `upper(s_currency) IN ${sqlList(rated(ctx))}`,
  `isfinite(${amount}) AND ${amount} BETWEEN 0 AND ${MAX_AMOUNT}`,
  isCountry('s_shipping_country'),
  isCountry('s_billing_country'),
  `lower(s_channel) IN ${sqlList(CHANNELS)}`,
  `abs(${amount} - ${itemsSum}) <= 0.01 + 1e-9`
]

const customerGate = (ctx: ValidationContext) => [
  `s_customer_id <> ''`,
  ...timestampGate('signup_ts', ctx),
  `lower(s_segment) IN ${sqlList(SEGMENTS)}`,
  isCountry('s_country')
]

/** Currencies an order may be in; only ISO codes (the settings schema allows no others anyway). */
const rated = (ctx: ValidationContext) => [...new Set([ctx.reportingCurrency, ...ctx.ratedCurrencies])].filter(isCurrencyCode)

/**
 * CTEs from `src` (raw, source, offsets, pos) to `v`, which adds `reason` (NULL = valid).
 * Clean values come from `f`, `s_*` and `items_f`. Reference `reason` as few times as
 * possible: DuckDB may inline it.
 */
export function orderValidationCtes(ctx: ValidationContext): string {
  // items are parsed with the line, straight into objects of JSON texts: parsing their JSON text
  // a second time cost a third of the parse. A list means the JSON was an array (anything else
  // parses to NULL); only the diagnosis needs the text, and re-reads it.
  return `${parseCtes(ORDER_FIELDS, orderGate(ctx), ctx.gate !== false, `, f.items AS items_f`, {
    name: 'items',
    spec: ITEMS_SPEC.slice(1, -1),
    isParsed: 'f.items IS NOT NULL'
  })},
    v AS (SELECT *, CASE WHEN fast_ok THEN NULL ELSE CASE
      ${headArms}
      ${presenceAndTypeArms(ORDER_FIELDS, { items: 'items_json' }).join('\n      ')}
      WHEN s_order_id = '' THEN 'order_id is empty'
      WHEN s_customer_id = '' THEN 'customer_id is empty'
      ${timestampArms('order_ts', ctx)}
      WHEN lower(s_status) NOT IN ${sqlList(ORDER_STATUSES)} THEN 'unknown status: ' || left(s_status, 60)
      WHEN NOT regexp_matches(s_currency, '^[A-Za-z]{3}$') THEN 'currency must be 3 letters, got: ' || left(s_currency, 60)
      WHEN upper(s_currency) NOT IN ${sqlList(ISO_4217_CODES)} THEN 'currency ' || s_currency || ' is not an ISO 4217 currency code'
      WHEN NOT isfinite(${amount}) THEN 'total_amount is not a finite number'
      WHEN ${amount} < 0 THEN 'negative amount: total_amount = ' || f.total_amount::VARCHAR
      WHEN ${amount} > ${MAX_AMOUNT} THEN 'total_amount is too large (at most ${MAX_AMOUNT}): ' || f.total_amount::VARCHAR
      WHEN NOT regexp_matches(s_shipping_country, '^[A-Za-z]{2}$') THEN 'shipping_country must be an ISO alpha-2 code, got: ' || left(s_shipping_country, 60)
      WHEN NOT ${isCountry('s_shipping_country')} THEN 'shipping_country ' || s_shipping_country || ' is not an ISO 3166-1 alpha-2 country code'
      WHEN NOT regexp_matches(s_billing_country, '^[A-Za-z]{2}$') THEN 'billing_country must be an ISO alpha-2 code, got: ' || left(s_billing_country, 60)
      WHEN NOT ${isCountry('s_billing_country')} THEN 'billing_country ' || s_billing_country || ' is not an ISO 3166-1 alpha-2 country code'
      WHEN lower(s_channel) NOT IN ${sqlList(CHANNELS)} THEN 'unknown channel: ' || left(s_channel, 60)
      WHEN items_f IS NULL THEN 'items must be an array of objects'
      WHEN len(items_f) = 0 THEN 'items is empty'
      WHEN ${itemProblem()} IS NOT NULL THEN ${itemProblem()}
      WHEN abs(${amount} - ${itemsSum}) > 0.01 + 1e-9
        THEN 'total differs from the sum of items by more than 0.01: total_amount = ' || f.total_amount::VARCHAR || ', items sum to ' || round(${itemsSum}, 2)::VARCHAR
      -- last: the line itself is fine, the settings lack what it needs
      WHEN upper(s_currency) NOT IN ${sqlList(rated(ctx))}
        THEN 'no exchange rate for ' || upper(s_currency) || ': add one to reporting.fxRates (${ctx.reportingCurrency} per ' || upper(s_currency) || ')'
    END END AS reason FROM (SELECT *, CASE WHEN ${IS.array('items_json')} THEN from_json(items_json, '["JSON"]') END AS items_raw
      FROM (SELECT *, CASE WHEN NOT fast_ok THEN try(from_json(raw, '{"items":"JSON"}')).items END AS items_json FROM g)))`
}

export function customerValidationCtes(ctx: ValidationContext): string {
  return `${parseCtes(CUSTOMER_FIELDS, customerGate(ctx), ctx.gate !== false)},
    v AS (SELECT *, CASE WHEN fast_ok THEN NULL ELSE CASE
      ${headArms}
      ${presenceAndTypeArms(CUSTOMER_FIELDS).join('\n      ')}
      WHEN s_customer_id = '' THEN 'customer_id is empty'
      ${timestampArms('signup_ts', ctx)}
      WHEN lower(s_segment) NOT IN ${sqlList(SEGMENTS)} THEN 'unknown segment: ' || left(s_segment, 60)
      WHEN NOT regexp_matches(s_country, '^[A-Za-z]{2}$') THEN 'country must be an ISO alpha-2 code, got: ' || left(s_country, 60)
      WHEN NOT ${isCountry('s_country')} THEN 'country ' || s_country || ' is not an ISO 3166-1 alpha-2 country code'
    END END AS reason FROM g)`
}

/** Clean values for silver, from the parsed struct. */
export const clean = {
  text: (name: string) => `s_${name}`,
  amount,
  items: `list_transform(items_f, x -> {
        'product_id': trim(${jsonStr('x.product_id')}), 'product_name': trim(${jsonStr('x.product_name')}),
        'category': lower(trim(${jsonStr('x.category')})), 'quantity': try_cast(x.quantity::VARCHAR AS BIGINT),
        'unit_price': try_cast(round(${jsonNum('x.unit_price')}, 2) AS DECIMAL(18,2))})`
}
