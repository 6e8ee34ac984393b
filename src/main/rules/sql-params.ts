import { BIGINT, BOOLEAN, DOUBLE, LIST, VARCHAR, listValue, type DuckDBType, type DuckDBValue } from '@duckdb/node-api'

// Values from a rule (numbers, text, list contents, time bounds) reach DuckDB only as bound
// parameters: the SQL text holds `$n` placeholders, never a value, so no rule text can change
// what a statement does. One collector serves a whole statement, as its placeholders are
// numbered across it.

export class SqlParams {
  readonly values: DuckDBValue[] = []
  readonly types: DuckDBType[] = []

  private add(value: DuckDBValue, type: DuckDBType): string {
    this.values.push(value)
    this.types.push(type)
    return `$${this.values.length}`
  }

  number(v: number): string {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`)
    return this.add(v, DOUBLE)
  }

  integer(v: number): string {
    if (!Number.isSafeInteger(v)) throw new RangeError(`not a whole number: ${v}`)
    return this.add(BigInt(v), BIGINT)
  }

  text(v: string): string {
    return this.add(v, VARCHAR)
  }

  boolean(v: boolean): string {
    return this.add(v, BOOLEAN)
  }

  textList(values: readonly string[]): string {
    return this.add(listValue([...values]), LIST(VARCHAR))
  }

  /** An ISO time; DuckDB parses it, with its offset. */
  timestamp(iso: string): string {
    return `${this.add(iso, VARCHAR)}::TIMESTAMPTZ`
  }
}
