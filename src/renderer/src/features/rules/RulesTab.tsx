import { useEffect, useState } from 'react'
import type { BacktestReport, Outcome, ShadowReport } from '../../../../shared/rules'
import { formatDateTime, formatNumber } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { DataTable, num } from '../../ui/DataTable'
import { ListsCard } from './ListsCard'

// The rule lab: edit a candidate ruleset (checked by the engine as it is typed, each issue with
// its line and column), backtest it over silver, promote it, or roll back to an earlier version;
// beside it, the named lists the rules test membership in.

const CHECK_DELAY_MS = 300

const pct = (v: number | null): string => (v === null ? '—' : `${(v * 100).toFixed(1)} %`)

/** Order ids behind a count; each opens Recent orders filtered to that order. */
function Samples({ ids, testId, onOpen }: { ids: string[]; testId?: string; onOpen(orderId: string): void }) {
  if (ids.length === 0) return null
  return (
    <div className="reasons" data-testid={testId}>
      {ids.map((id) => (
        <button type="button" className="chip mono" key={id} title="Show this order in Recent orders" onClick={() => onOpen(id)} data-testid="sample-order">
          {id}
        </button>
      ))}
    </div>
  )
}

function OutcomeRow({ name, o }: { name: string; o: Outcome }) {
  return (
    <tr>
      <td>{name}</td>
      <td className="num">{formatNumber(o.caught)}</td>
      <td className="num">{formatNumber(o.missed)}</td>
      <td className="num">{formatNumber(o.legit_flagged)}</td>
      <td className="num">{pct(o.precision)}</td>
      <td className="num">{pct(o.recall)}</td>
    </tr>
  )
}

function Report({ r, stale, onOpen }: { r: BacktestReport; stale: boolean; onOpen(orderId: string): void }) {
  return (
    <div className="stack" data-testid="backtest-report">
      {stale && <p className="form-warning">The ruleset changed since this backtest: run it again.</p>}
      <p>
        <strong data-testid="backtest-orders">{formatNumber(r.orders)}</strong> orders · current alerts{' '}
        <strong data-testid="backtest-current">{formatNumber(r.current_alerts)}</strong> · candidate alerts{' '}
        <strong data-testid="backtest-candidate">{formatNumber(r.candidate_alerts)}</strong> (threshold {r.candidate_threshold}) · gained{' '}
        <strong data-testid="backtest-gained">{formatNumber(r.gained)}</strong> · lost <strong data-testid="backtest-lost">{formatNumber(r.lost)}</strong>
      </p>
      {r.gained > 0 && <Samples ids={r.samples.gained} testId="backtest-gained-sample" onOpen={onOpen} />}
      {r.lost > 0 && <Samples ids={r.samples.lost} testId="backtest-lost-sample" onOpen={onOpen} />}
      {r.labels && (
        <DataTable
          testId="backtest-labels"
          columns={[
            `Labelled: ${formatNumber(r.labels.fraud)} fraud, ${formatNumber(r.labels.legit)} legit`,
            num('Fraud caught'),
            num('Fraud missed'),
            num('Legit flagged'),
            num('Precision'),
            num('Recall')
          ]}
        >
          <OutcomeRow name="current" o={r.labels.current} />
          <OutcomeRow name="candidate" o={r.labels.candidate} />
        </DataTable>
      )}
      <DataTable testId="backtest-rules" columns={['Rule', num('Points'), num('Matched'), num('Alerts'), num('Gained'), num('Lost'), num('Precision'), 'Sample']}>
        {r.per_rule.map((p) => (
          <tr key={p.id} data-testid="backtest-rule" data-rule-id={p.id}>
            <td className="mono">{p.id}</td>
            <td className="num">{p.points}</td>
            <td className="num" data-testid="rule-matched">
              {formatNumber(p.matched)}
            </td>
            <td className="num">{formatNumber(p.alerts)}</td>
            <td className="num">{formatNumber(p.gained)}</td>
            <td className="num">{formatNumber(p.lost)}</td>
            <td className="num">{pct(p.labels?.precision ?? null)}</td>
            <td className="samples" title={p.samples.matched.join('\n')}>
              {p.samples.matched.slice(0, 3).join(', ')}
            </td>
          </tr>
        ))}
      </DataTable>
    </div>
  )
}

/** Live against shadow, side by side, over the orders the shadow scored. */
function Shadow({ r, busy, onEnd, onOpen }: { r: ShadowReport; busy: boolean; onEnd(action: 'promote' | 'drop'): void; onOpen(orderId: string): void }) {
  const running = r.run.endedAt === null
  return (
    <div className="stack" data-testid="shadow-report">
      <p>
        Shadow {r.run.shadowId} {running ? 'is running' : `ended: ${r.run.outcome}`} · started {formatDateTime(r.run.startedAt)} by {r.run.startedBy}
        {r.run.note && ` · ${r.run.note}`}
      </p>
      <table className="data">
        <thead>
          <tr>
            <th className="num">Orders scored</th>
            <th className="num">Live alerts</th>
            <th className="num">Shadow alerts</th>
            <th className="num">Both</th>
            <th className="num">Live only</th>
            <th className="num">Shadow only</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <td className="num" data-testid="shadow-orders">{formatNumber(r.orders)}</td>
            <td className="num" data-testid="shadow-live">{formatNumber(r.live_alerts)}</td>
            <td className="num" data-testid="shadow-alerts">{formatNumber(r.shadow_alerts)}</td>
            <td className="num">{formatNumber(r.both)}</td>
            <td className="num">{formatNumber(r.live_only)}</td>
            <td className="num">{formatNumber(r.shadow_only)}</td>
          </tr>
        </tbody>
      </table>
      {r.live_only > 0 && <Samples ids={r.samples.live_only} onOpen={onOpen} />}
      {r.shadow_only > 0 && <Samples ids={r.samples.shadow_only} testId="shadow-only-sample" onOpen={onOpen} />}
      {running && (
        <div className="input-row">
          <button type="button" className="btn primary" disabled={busy} onClick={() => onEnd('promote')} data-testid="shadow-promote">
            Promote shadow
          </button>
          <button type="button" className="btn" disabled={busy} onClick={() => onEnd('drop')} data-testid="shadow-drop">
            Drop shadow
          </button>
        </div>
      )}
    </div>
  )
}

export function RulesTab({ onOpenOrder }: { onOpenOrder(orderId: string): void }) {
  const { rulesLab, pipeline } = useStores()
  const lab = useSlice(rulesLab, (s) => s)
  const ordersCommitted = useSlice(pipeline, (s) => s.status?.totals.orders ?? 0)
  const [from, setFrom] = useState('')
  const [to, setTo] = useState('')
  const [note, setNote] = useState('')

  useEffect(() => {
    void rulesLab.getState().load()
  }, [rulesLab])

  // a running shadow scores every batch: its figures follow them
  const shadowRunning = lab.shadow !== null && lab.shadow.run.endedAt === null
  useEffect(() => {
    if (shadowRunning) void rulesLab.getState().loadShadow()
  }, [ordersCommitted, shadowRunning, rulesLab])

  useEffect(() => {
    if (lab.text === '') return
    const t = setTimeout(() => void rulesLab.getState().check(), CHECK_DELAY_MS)
    return () => clearTimeout(t)
  }, [lab.text, rulesLab])

  const checks = lab.issues !== null && lab.issues.length === 0
  const activeVersion = lab.active?.version ?? null

  return (
    <div className="grid cols-2">
      <div className="stack">
        <Card
          title="Candidate ruleset"
          hint={activeVersion === null ? 'the lake has no version yet' : `active: version ${activeVersion}`}
          testId="rules-editor"
          right={
            <button type="button" className="btn small ghost" onClick={() => void lab.load(true)} data-testid="rules-reset">
              Reset to active
            </button>
          }
        >
          <div className="stack">
            <textarea
              className="input mono"
              rows={22}
              spellCheck={false}
              aria-label="Ruleset (JSON)"
              aria-invalid={lab.issues !== null && lab.issues.length > 0}
              value={lab.text}
              onChange={(e) => lab.setText(e.target.value)}
              data-testid="rules-text"
              style={{ width: '100%', fontFamily: 'var(--mono, monospace)' }}
            />
            {lab.issues && lab.issues.length > 0 ? (
              <ul className="result-list" data-testid="rules-issues">
                {lab.issues.map((i, k) => (
                  <li key={k} className="form-error">
                    {i.path}: {i.message}
                  </li>
                ))}
              </ul>
            ) : (
              checks && (
                <p className="form-ok" data-testid="rules-ok">
                  The ruleset checks.
                </p>
              )
            )}
            <div className="input-row">
              <input className="input" placeholder="from (ISO time, optional)" aria-label="Backtest from" value={from} onChange={(e) => setFrom(e.target.value)} data-testid="backtest-from" />
              <input className="input" placeholder="to (ISO time, optional)" aria-label="Backtest to" value={to} onChange={(e) => setTo(e.target.value)} data-testid="backtest-to" />
              <button type="button" className="btn" disabled={!checks || lab.busy !== null} onClick={() => void lab.backtest({ from: from.trim(), to: to.trim() })} data-testid="backtest-run">
                {lab.busy === 'backtest' ? 'Backtesting…' : 'Backtest'}
              </button>
            </div>
            <div className="input-row">
              <input className="input" placeholder="note: why this change" aria-label="Promote note" value={note} onChange={(e) => setNote(e.target.value)} data-testid="promote-note" />
              <button type="button" className="btn primary" disabled={!checks || lab.busy !== null} onClick={() => void lab.promote(note.trim())} data-testid="promote-run">
                {lab.busy === 'promote' ? 'Promoting…' : 'Promote'}
              </button>
              <button type="button" className="btn" disabled={!checks || lab.busy !== null || shadowRunning} onClick={() => void lab.startShadow(note.trim())} data-testid="shadow-start">
                Run as shadow
              </button>
            </div>
            {lab.error && (
              <p className="form-error" role="alert" data-testid="rules-error">
                {lab.error}
              </p>
            )}
            {lab.notice && (
              <p className="form-ok" role="status" data-testid="rules-notice">
                {lab.notice}
              </p>
            )}
          </div>
        </Card>
        <ListsCard />
      </div>
      <div className="stack">
        <Card title="Backtest" hint="the candidate over silver, against the version that scored each order" testId="backtest-card">
          {lab.report ? (
            <Report r={lab.report} stale={lab.reportText !== lab.text} onOpen={onOpenOrder} />
          ) : (
            <EmptyState title="No backtest yet">
              <p>Backtest the candidate to see which alerts it would gain and lose, rule by rule.</p>
            </EmptyState>
          )}
        </Card>
        <Card title="Shadow" hint="a candidate scoring new batches beside the live version, its scores kept apart" testId="shadow-card">
          {lab.shadow ? (
            <Shadow r={lab.shadow} busy={lab.busy !== null} onEnd={(action) => void lab.endShadow(action)} onOpen={onOpenOrder} />
          ) : (
            <EmptyState title="No shadow">
              <p>Run the candidate as a shadow to see, batch by batch, what it alerts on beside the live version.</p>
            </EmptyState>
          )}
        </Card>
        <Card title="Versions" hint="newest first; rolling back promotes an earlier version again" flush testId="rules-versions">
          {lab.versions.length === 0 ? (
            <EmptyState title="No version yet">
              <p>The first run stores version 1, from the fraud settings.</p>
            </EmptyState>
          ) : (
            <table className="data">
              <thead>
                <tr>
                  <th className="num">Version</th>
                  <th>Promoted</th>
                  <th>By</th>
                  <th>Note</th>
                  <th />
                </tr>
              </thead>
              <tbody>
                {lab.versions.map((v) => (
                  <tr key={v.version} data-testid="rules-version" data-version={v.version}>
                    <td className="num">{v.version}</td>
                    <td className="tnum" title={v.promotedAt}>{formatDateTime(v.promotedAt)}</td>
                    <td>{v.promotedBy}</td>
                    <td>
                      {v.note}
                      {v.restoredFrom !== null && <span className="muted"> (restores {v.restoredFrom})</span>}
                    </td>
                    <td>
                      {v.version === activeVersion ? (
                        <span className="badge plain">active</span>
                      ) : (
                        <button type="button" className="btn small" disabled={lab.busy !== null} onClick={() => void lab.restore(v.version, `roll back to version ${v.version}`)} data-testid="rules-restore">
                          Roll back to this
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </Card>
      </div>
    </div>
  )
}
