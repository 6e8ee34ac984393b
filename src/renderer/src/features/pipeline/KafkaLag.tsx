import { formatNumber } from '../../lib/format'
import { useSlice, useStores } from '../../stores/context'
import { Card, EmptyState } from '../../ui/Card'
import { DataTable, num } from '../../ui/DataTable'
import { shareSummary } from './share-summary'
import { usePolled } from '../../lib/use-polled'

const REFRESH_MS = 2000

/**
 * Lag per Kafka partition: the broker's high-water mark minus the lake's offset. Shown only when
 * the source is Kafka; refreshed every 2 s while the tab is open. With a shared consumer group,
 * only the partitions this pipeline owns are listed, under a line naming them.
 */
export function KafkaLag() {
  const { client, pipeline, liveUpdates } = useStores()
  const kind = useSlice(pipeline, (s) => s.status?.source.kind)
  const state = useSlice(pipeline, (s) => s.status?.state)
  const paused = useSlice(liveUpdates, (s) => s.paused)
  const share = useSlice(pipeline, (s) => s.status?.share ?? null)
  const { data: rows, error } = usePolled(() => client.invoke('query.kafkaLag', {}), REFRESH_MS, kind === 'kafka' && !paused, [client, kind, state])

  if (kind !== 'kafka') return null
  const total = rows?.reduce((s, r) => s + (r.lag ?? 0), 0) ?? 0
  const live = rows?.some((r) => r.highWatermark !== null) ?? false
  return (
    <Card
      title="Kafka lag"
      hint={live ? `high-water mark − lake offset · ${formatNumber(total)} message${total === 1 ? '' : 's'} behind` : 'lake offsets (start the pipeline for the brokers’ side)'}
      flush
      testId="kafka-lag-card"
    >
      {share && (
        <p className="muted" data-testid="kafka-share">
          {shareSummary(share)}
        </p>
      )}
      {error ? (
        <EmptyState title="Lag unavailable">
          <p>{error}</p>
        </EmptyState>
      ) : !rows || rows.length === 0 ? (
        <EmptyState title="No partitions yet">
          <p>Partitions appear once the pipeline has reached the brokers.</p>
        </EmptyState>
      ) : (
        <DataTable wrapClassName="short" testId="kafka-lag-table" columns={['Topic', num('Partition'), num('High-water mark'), num('Lake offset'), num('Lag')]}>
          {rows.map((r) => (
            <tr key={`${r.topic}/${r.partition}`} data-testid="kafka-lag-row">
              <td>{r.topic}</td>
              <td className="num">{r.partition}</td>
              <td className="num">{formatNumber(r.highWatermark)}</td>
              <td className="num">{formatNumber(r.lakeOffset)}</td>
              <td className="num">{formatNumber(r.lag)}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </Card>
  )
}
