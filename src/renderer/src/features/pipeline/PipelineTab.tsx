import { useMemo } from 'react'
import { Chart } from '../../charts/Chart'
import { batchDurationOption, ratesOption } from '../../charts/options'
import { formatDuration, formatNumber, formatTime } from '../../lib/format'
import { useSlice, useStores, useThemeName } from '../../stores/context'
import { Card, EmptyState, Stat } from '../../ui/Card'
import { DataTable, num } from '../../ui/DataTable'
import { useChartContext } from '../hooks'
import { batchGapMs, countGaps, withGaps } from '../../charts/gaps'
import type { BatchRow } from '../../../../shared/dto'
import { QuarantineBrowser } from './QuarantineBrowser'
import { ReplayCard } from './ReplayCard'
import { KafkaLag } from './KafkaLag'
import { AlertSinks } from './AlertSinks'
import { FileEvents } from './FileEvents'
import { Checkpoints } from './Checkpoints'
import { InputActivity } from './InputActivity'
import { TOTALS_DEFINITIONS } from './totals-text'

const TABLE_ROWS = 100

/** Pauses between batches the charts leave blank. */
function pauses(batches: readonly BatchRow[]): number {
  const times = batches.map((b) => Date.parse(b.committedAt))
  return countGaps(withGaps(times.map((t) => [t, 0]), batchGapMs(times)))
}

export function PipelineTab() {
  const { history, pipeline, settings } = useStores()
  const batches = useSlice(history, (s) => s.batches)
  const totals = useSlice(pipeline, (s) => s.status?.totals)
  const lastBatchAt = useSlice(pipeline, (s) => s.status?.lastBatchAt)
  const triggerMs = useSlice(settings, (s) => s.settings?.pipeline.triggerMs)
  const ctx = useChartContext()
  const theme = useThemeName()
  // a rewind record reads nothing and takes no time: a point at 0 would be a measurement it is not
  const measured = useMemo(() => batches.filter((b) => b.kind !== 'rewind'), [batches])
  const rates = useMemo(() => ratesOption(measured, ctx), [measured, ctx])
  const durations = useMemo(() => batchDurationOption(measured, ctx, triggerMs), [measured, ctx, triggerMs])
  const newestFirst = useMemo(() => batches.slice(-TABLE_ROWS).reverse(), [batches])
  const stops = useMemo(() => pauses(measured), [measured])
  const stopsLabel = stops ? `, ${stops} gap${stops === 1 ? '' : 's'} where no batch ran (stopped or idle)` : ''

  return (
    <>
      <InputActivity />
      <div className="grid cols-6">
        <Stat label="Last batch" value={newestFirst[0] ? `#${newestFirst[0].batchId}` : '—'} testId="stat-last-batch" definition={TOTALS_DEFINITIONS.lastBatch} />
        <Stat label="Committed" value={formatTime(lastBatchAt)} testId="stat-last-batch-at" definition={TOTALS_DEFINITIONS.committed} />
        <Stat label="Valid orders" value={formatNumber(totals?.orders)} testId="stat-orders" definition={TOTALS_DEFINITIONS.orders} />
        <Stat label="Late" value={formatNumber(totals?.late)} tone={totals?.late ? 'warn' : undefined} testId="stat-late" definition={TOTALS_DEFINITIONS.late} />
        <Stat label="Duplicates" value={formatNumber(totals?.duplicates)} tone={totals?.duplicates ? 'warn' : undefined} testId="stat-duplicates" definition={TOTALS_DEFINITIONS.duplicates} />
        <Stat label="Quarantined" value={formatNumber(totals?.quarantined)} tone={totals?.quarantined ? 'bad' : undefined} testId="stat-quarantined" definition={TOTALS_DEFINITIONS.quarantined} />
      </div>
      <div className="grid cols-2">
        <Card title="Throughput" hint="rows per second, per batch · blank: no batches" testId="chart-rates">
          {batches.length > 0 ? (
            <Chart option={rates} theme={theme} height={220} ariaLabel={`Input and processing rate${stopsLabel}`} />
          ) : (
            <EmptyState title="No batches yet" />
          )}
        </Card>
        <Card title="Batch duration" hint={triggerMs ? `trigger every ${formatDuration(triggerMs)}` : undefined} testId="chart-durations">
          {batches.length > 0 ? (
            <Chart option={durations} theme={theme} height={220} ariaLabel={`Batch duration${stopsLabel}`} />
          ) : (
            <EmptyState title="No batches yet" />
          )}
        </Card>
      </div>
      <KafkaLag />
      <AlertSinks />
      <Checkpoints />
      <FileEvents batches={batches} />
      <Card title="Batches" hint={`newest first · ${formatNumber(batches.length)} kept`} flush testId="batches-card">
        {newestFirst.length === 0 ? (
          <EmptyState title="No batches yet">
            <p>Each micro-batch the pipeline commits is listed here.</p>
          </EmptyState>
        ) : (
          <DataTable
            wrapClassName="short"
            testId="batches-table"
            columns={[
              num('Batch'),
              'Committed',
              num('Duration'),
              num('Read'),
              num('Valid'),
              num('Late'),
              num('Dupes'),
              num('Quarantined'),
              num('Alerts'),
              num('Input/s'),
              num('Processed/s'),
              'Watermark'
            ]}
          >
            {newestFirst.map((b) => (
              <tr key={b.batchId} data-testid="batch-row">
                <td className="num">
                  {b.kind && (
                    <span className="chip" data-testid="batch-kind">
                      {b.kind}
                    </span>
                  )}
                  {b.batchId}
                </td>
                <td className="tnum">
                  {formatTime(b.committedAt)}
                </td>
                <td className="num">{formatDuration(b.durationMs)}</td>
                <td className="num">{formatNumber(b.rowsRead)}</td>
                <td className="num">{formatNumber(b.valid)}</td>
                <td className="num">{formatNumber(b.late)}</td>
                <td className="num">{formatNumber(b.duplicates)}</td>
                <td className="num">{formatNumber(b.quarantined)}</td>
                <td className="num">{formatNumber(b.alerts)}</td>
                <td className="num">{formatNumber(b.inputRate, 1)}</td>
                <td className="num">{formatNumber(b.processingRate, 1)}</td>
                <td className="tnum muted">
                  {formatTime(b.watermark)}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Card>
      <ReplayCard />
      <QuarantineBrowser />
    </>
  )
}
