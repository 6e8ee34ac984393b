import { describe, expect, it } from 'vitest'
import { LIGHT } from '../../../src/renderer/src/charts/palette'
import { planResultChart, resultChartOption } from '../../../src/renderer/src/charts/result-chart'
import type { SqlRows } from '../../../src/shared/sql'

const rows = (columns: [string, string][], data: SqlRows['rows']): SqlRows => ({
  columns: columns.map(([name, type]) => ({ name, type })),
  rows: data,
  truncated: false,
  maxRows: 1000,
  elapsedMs: 1
})

describe('the SQL console chart', () => {
  it('puts the first column on x and each numeric column after it in a series', () => {
    const r = rows(
      [
        ['status', 'VARCHAR'],
        ['orders', 'BIGINT'],
        ['note', 'VARCHAR'],
        ['amount', 'DECIMAL(18,2)']
      ],
      [
        ['paid', '12', 'x', '100.50'],
        [null, '3', 'y', null]
      ]
    )
    expect(planResultChart(r)).toEqual({ x: 0, series: [1, 3] })
    const o = resultChartOption(r, 'bar', LIGHT) as any
    expect(o.xAxis.type).toBe('category')
    expect(o.series.map((s: any) => [s.name, s.type, s.data])).toEqual([
      ['orders', 'bar', [['paid', 12], ['NULL', 3]]],
      ['amount', 'bar', [['paid', 100.5], ['NULL', null]]]
    ])
  })

  it("reads DuckDB's timestamps onto a time axis", () => {
    const r = rows(
      [
        ['minute', 'TIMESTAMP WITH TIME ZONE'],
        ['n', 'BIGINT']
      ],
      [['2026-12-02 01:01:35.023+00', '5']]
    )
    const o = resultChartOption(r, 'line', LIGHT) as any
    expect(o.xAxis.type).toBe('time')
    expect(o.series[0].data).toEqual([[Date.parse('2026-12-02T01:01:35.023Z'), 5]])
  })

  it('says why it cannot chart a result without numbers', () => {
    expect(planResultChart(rows([['a', 'VARCHAR']], []))).toEqual({ reason: expect.stringContaining('two columns') })
    expect(planResultChart(rows([['a', 'BIGINT'], ['b', 'VARCHAR']], []))).toEqual({ reason: expect.stringContaining('numeric column') })
  })
})
