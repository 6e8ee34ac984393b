import { useCallback, useEffect, useMemo, useRef, useState } from 'react'
import { toCsv } from '../../../../shared/csv'
import type { SqlAnswer, SqlRows, SqlSchemaTable, SqlValue } from '../../../../shared/sql'
import { Chart } from '../../charts/Chart'
import { paletteFor } from '../../charts/palette'
import { planResultChart, resultChartOption, type ResultChartKind } from '../../charts/result-chart'
import { formatNumber } from '../../lib/format'
import { useStores, useThemeName } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { DataTable } from '../../ui/DataTable'
import { downloadText } from './download'
import { ParquetExport } from './ParquetExport'
import { SavedQueries } from './SavedQueries'
import { SqlEditor } from './SqlEditor'

// The SQL console: one read-only statement at a time on the lake's last committed batch, while
// the pipeline goes on writing it (docs/SQL.md). The engine refuses anything that would write
// or read files; this tab shows what it answers, with the row cap and DuckDB's position.

const STORAGE_KEY = 'streamdesk.sql.text'
const ROW_CAPS = [100, 1000, 10_000] as const
const CANCEL_RETRY_MS = 200
const DEFAULT_SQL = `SELECT status, count(*) AS orders, sum(total_amount) AS amount
FROM silver_orders
GROUP BY status
ORDER BY orders DESC`

const CHART_KINDS: readonly ResultChartKind[] = ['line', 'bar', 'scatter']

function cellText(v: SqlValue): string {
  if (v === null) return 'NULL'
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

function ResultTable({ result }: { result: SqlRows }) {
  return (
    <DataTable
      className="compact"
      wrapStyle={{ maxHeight: 'calc(100vh - 420px)', minHeight: 120 }}
      testId="sql-result"
      columns={result.columns.map((c) => ({ label: c.name, title: c.type }))}
    >
      {result.rows.map((r, i) => (
        <tr key={i}>
          {r.map((v, j) => (
            <td key={j} className={v === null ? 'muted mono' : 'mono'}>
              {cellText(v)}
            </td>
          ))}
        </tr>
      ))}
    </DataTable>
  )
}

function resultHint(result: SqlRows): string {
  const n = formatNumber(result.rows.length)
  if (result.truncated) return `first ${n} rows — capped at ${formatNumber(result.maxRows)}, the result has more`
  return `${n} row${result.rows.length === 1 ? '' : 's'} · ${formatNumber(result.elapsedMs)} ms`
}

export function SqlTab() {
  const { client } = useStores()
  const theme = useThemeName()
  const [text, setText] = useState(() => localStorage.getItem(STORAGE_KEY) ?? DEFAULT_SQL)
  const [schema, setSchema] = useState<SqlSchemaTable[]>([])
  const [maxRows, setMaxRows] = useState<number>(1000)
  const [running, setRunning] = useState<string | null>(null)
  const [answer, setAnswer] = useState<SqlAnswer | null>(null)
  const [failure, setFailure] = useState<string | null>(null)
  const [chart, setChart] = useState<ResultChartKind | null>(null)
  const [replace, setReplace] = useState<{ text: string } | null>(null)
  const runningRef = useRef<string | null>(null)

  useEffect(() => {
    let alive = true
    client
      .invoke('sql.schema', {})
      .then((s) => alive && setSchema(s))
      .catch(() => undefined) // completion without table names is still an editor
    return () => {
      alive = false
    }
  }, [client])

  const onChange = useCallback((t: string) => {
    setText(t)
    localStorage.setItem(STORAGE_KEY, t)
  }, [])

  const run = useCallback(async () => {
    if (runningRef.current || text.trim() === '') return
    const queryId = crypto.randomUUID()
    runningRef.current = queryId
    setRunning(queryId)
    setFailure(null)
    try {
      setAnswer(await client.invoke('sql.run', { sql: text, maxRows, queryId }))
    } catch (err) {
      setAnswer(null)
      setFailure(err instanceof Error ? err.message : String(err))
    } finally {
      runningRef.current = null
      setRunning(null)
    }
  }, [client, text, maxRows])

  // The run request may still be on its way to the engine (a busy worker): ask again until the
  // engine has it or the answer is back.
  const cancel = useCallback(async () => {
    const queryId = runningRef.current
    while (queryId && runningRef.current === queryId) {
      const r = await client.invoke('sql.cancel', { queryId }).catch(() => ({ cancelled: false }))
      if (r.cancelled) return
      await new Promise((resolve) => setTimeout(resolve, CANCEL_RETRY_MS))
    }
  }, [client])

  const result = answer?.ok ? answer : null
  const problem = answer && !answer.ok ? answer.problem : null
  const plan = result ? planResultChart(result) : null
  const chartOption = useMemo(() => (result && chart ? resultChartOption(result, chart, paletteFor(theme)) : null), [result, chart, theme])

  return (
    <div className="stack" data-testid="sql-tab">
      <div className="grid with-sidebar">
        <Card
          title="SQL"
          hint="one read-only statement on the lake's last committed batch · Ctrl/⌘+Enter runs it"
          right={
            <div className="sql-actions">
              <label className="muted">
                Rows{' '}
                <select value={maxRows} onChange={(e) => setMaxRows(Number(e.target.value))} data-testid="sql-max-rows">
                  {ROW_CAPS.map((n) => (
                    <option key={n} value={n}>
                      {formatNumber(n)}
                    </option>
                  ))}
                </select>
              </label>
              {running ? (
                <button type="button" className="btn danger" onClick={() => void cancel()} data-testid="sql-cancel">
                  Cancel
                </button>
              ) : (
                <button type="button" className="btn primary" onClick={() => void run()} data-testid="sql-run">
                  Run
                </button>
              )}
            </div>
          }
        >
          <SqlEditor initial={text} schema={schema} onChange={onChange} onRun={() => void run()} focusAt={problem?.position ?? null} replace={replace} />
        </Card>
        <div className="stack">
          <SavedQueries text={text} onLoad={(sql) => setReplace({ text: sql })} />
          <ParquetExport text={text} />
        </div>
      </div>

      {(problem || failure) && (
        <div className="banner error sql-problem" role="alert" data-testid="sql-problem">
          <strong>{problem ? { refused: 'Refused', invalid: 'DuckDB error', cancelled: 'Cancelled' }[problem.kind] : 'The query failed'}</strong>
          {problem?.position && (
            <span data-testid="sql-problem-position">
              {' '}
              at line {problem.position.line}, column {problem.position.column}
            </span>
          )}
          {/* the heading says it was refused; the engine's message says so too, for the CLI */}
          <pre>{problem ? problem.message.replace(/^refused: /, '') : failure}</pre>
        </div>
      )}

      {result && (
        <Card
          title="Result"
          hint={<span data-testid="sql-result-hint">{resultHint(result)}</span>}
          flush
          right={
            <div className="sql-actions">
              {CHART_KINDS.map((k) => (
                <button
                  key={k}
                  type="button"
                  className={`btn small${chart === k ? ' primary' : ''}`}
                  disabled={!plan || 'reason' in plan}
                  title={plan && 'reason' in plan ? plan.reason : `${k} chart: first column on x, numeric columns as series`}
                  onClick={() => setChart(chart === k ? null : k)}
                  data-testid={`sql-chart-${k}`}
                >
                  {k[0].toUpperCase() + k.slice(1)}
                </button>
              ))}
              <button
                type="button"
                className="btn small"
                onClick={() => downloadText('streamdesk-query.csv', toCsv(result.columns, result.rows), 'text/csv')}
                data-testid="sql-export-csv"
              >
                Export CSV
              </button>
            </div>
          }
        >
          {chartOption && plan && !('reason' in plan) && (
            <Chart option={chartOption} theme={theme} height={280} ariaLabel={`${chart} chart of the result`} testId="sql-chart" />
          )}
          {result.rows.length === 0 ? (
            <EmptyState title="No rows">
              <p>The statement ran and returned nothing.</p>
            </EmptyState>
          ) : (
            <ResultTable result={result} />
          )}
        </Card>
      )}
    </div>
  )
}
