import { describe, expect, it } from 'vitest'
import { formatRows, rowsSummary } from '../../src/main/cli/sql-output'
import { positionFromMessage } from '../../src/main/lake/sql-error'
import { toCsv } from '../../src/shared/csv'
import type { SqlRows } from '../../src/shared/sql'

const result: SqlRows = {
  columns: [
    { name: 'id', type: 'VARCHAR' },
    { name: 'n', type: 'BIGINT' },
    { name: 'tags', type: 'VARCHAR[]' }
  ],
  rows: [
    ['a,"b"', '10', ['x', 'y']],
    [null, '2', null]
  ],
  truncated: false,
  maxRows: 10,
  elapsedMs: 3
}

describe('SQL results as text', () => {
  it('quotes CSV cells that need it and writes NULL as an empty cell', () => {
    expect(toCsv(result.columns, result.rows)).toBe('id,n,tags\r\n"a,""b""",10,"[""x"",""y""]"\r\n,2,\r\n')
  })

  it('aligns the table, numbers to the right', () => {
    expect(formatRows(result, 'table')).toBe(['id      n  tags', '-----  --  ---------', 'a,"b"  10  ["x","y"]', 'NULL    2  NULL', ''].join('\n'))
  })

  it('writes JSON objects keyed by column', () => {
    expect(JSON.parse(formatRows(result, 'json'))).toEqual([
      { id: 'a,"b"', n: '10', tags: ['x', 'y'] },
      { id: null, n: '2', tags: null }
    ])
  })

  it('says when the rows were capped', () => {
    expect(rowsSummary({ ...result, truncated: true })).toContain('the first 2 rows; the result has more')
    expect(rowsSummary(result)).toBe('(2 rows, 3 ms)')
  })
})

describe("the position in DuckDB's message", () => {
  it('is read from its caret, also in a window of a long line', () => {
    const sql = `SELECT ${'a, '.repeat(60)}nope FROM t`
    // as DuckDB 1.5 wrote it for this statement
    const message =
      'Binder Error: Referenced column "nope" not found in FROM clause!\nCandidate bindings: "a"\n\n' +
      'LINE 1: ..., a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, nope FROM t\n' +
      `${' '.repeat(73)}^`
    expect(positionFromMessage(sql, message)?.offset).toBe(sql.indexOf('nope'))
  })
})
