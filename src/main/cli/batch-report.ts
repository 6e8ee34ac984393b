import type { AlertRow } from '../../shared/dto'
import type { CommittedBatch } from '../lake/batch-writer'
import type { Lake } from '../lake/lake'
import { alertsOfBatch, quarantinedOrders } from '../lake/queries'

// What `streamdesk pipeline` and `run` print after each committed batch: one line whose numbers
// add up (input rows = orders + customers; orders = valid + duplicates + quarantined, + bad lines
// read again after a rewind, quarantined by their first reading), then
// the batch's fraud alerts, the highest scores first, at most ALERTS_PER_BATCH of them so a
// burst cannot flood the terminal.

export const ALERTS_PER_BATCH = 20

/** A batch's input split by stream. */
export interface BatchSplit {
  orders: number
  ordersQuarantined: number
  /** Bad order lines read again after a rewind: in quarantine since their first reading. */
  ordersAlreadyQuarantined: number
  customers: number
  customersQuarantined: number
  /** Customer lines read again after a rewind: the stored profile stays. */
  customersReadAgain: number
}

/**
 * The batch counts rows of both streams together; the quarantine says which stream each bad
 * line came from, and every order line is valid, a duplicate or quarantined.
 */
export function splitBatch(b: CommittedBatch, ordersQuarantined: number): BatchSplit {
  const ordersAlreadyQuarantined = b.reread?.badOrders ?? 0
  const orders = b.valid + b.duplicates + ordersQuarantined + ordersAlreadyQuarantined
  return {
    orders,
    ordersQuarantined,
    ordersAlreadyQuarantined,
    customers: b.rowsRead - orders,
    customersQuarantined: b.quarantined - ordersQuarantined,
    customersReadAgain: b.reread?.customers ?? 0
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`
const rate = (n: number) => Math.round(n).toLocaleString('en-US')

/** "(a) = b + c", leaving out zero terms after the first, so the sum reads at a glance. */
function sum(total: string, terms: [number, string][]): string {
  const shown = terms.filter(([n], i) => i === 0 || n > 0)
  return `${total} = ${shown.map(([n, what]) => `${n} ${what}`).join(' + ')}`
}

export function formatBatch(b: CommittedBatch, s: BatchSplit): string {
  const orders =
    s.orders === 0
      ? '0 orders'
      : sum(plural(s.orders, 'order'), [
          [b.valid, b.late ? `valid (${b.late} late)` : 'valid'],
          [b.duplicates, b.duplicates === 1 ? 'duplicate' : 'duplicates'],
          [s.ordersQuarantined, 'quarantined'],
          [s.ordersAlreadyQuarantined, 'already quarantined']
        ])
  const customers =
    s.customers === 0
      ? '0 customers'
      : sum(plural(s.customers, 'customer'), [
          [s.customers - s.customersQuarantined - s.customersReadAgain, 'stored'],
          [s.customersQuarantined, 'quarantined'],
          [s.customersReadAgain, 'read again (profile kept)']
        ])
  return (
    `batch ${b.batchId}: ${plural(b.rowsRead, 'row')} in: ${orders}; ${customers}; ${plural(b.alerts, 'alert')}; ` +
    `${b.durationMs} ms (${rate(b.processingRate)} rows/s)`
  )
}

const money = (amount: number, currency: string) =>
  `${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`

/** As sent, and in the reporting currency the amount rules compared when it differs: "4,100.00 GBP (5,207.00 USD)". */
function orderMoney(a: AlertRow): string {
  const sent = money(a.amount, a.currency)
  if (a.reportingAmount === null || a.reportingCurrency === null || a.reportingCurrency === a.currency) return sent
  return `${sent} (${money(a.reportingAmount, a.reportingCurrency)})`
}

/** One line per alert (of at most `ALERTS_PER_BATCH` given), then "+N more" for the rest of `total`. */
export function formatAlerts(batchId: number, alerts: readonly AlertRow[], total: number): string[] {
  const lines = alerts.map(
    (a) =>
      `  alert ${a.orderId}  customer ${a.customerId}  ${orderMoney(a)}  score ${a.fraudScore}: ` +
      (a.fraudReasons.length ? a.fraudReasons.join(', ') : 'no reason recorded')
  )
  const more = total - alerts.length
  if (more > 0) lines.push(`  +${more} more alert${more === 1 ? '' : 's'} in batch ${batchId} (fraud_alerts WHERE batch_id = ${batchId})`)
  return lines
}

/**
 * Prints each committed batch in commit order. The figures come from the lake (a committed batch
 * is visible to the reader), so printing waits for a query; `flush()` before the lake closes.
 */
export class BatchReporter {
  private queue: Promise<void> = Promise.resolve()

  constructor(
    private readonly lake: Lake,
    private readonly log: (line: string) => void
  ) {}

  report(b: CommittedBatch): void {
    this.queue = this.queue.then(() => this.print(b))
  }

  /** Lines printed in turn with the reports queued before them. */
  say(lines: readonly string[]): void {
    if (lines.length) this.queue = this.queue.then(() => lines.forEach((l) => this.log(l)))
  }

  flush(): Promise<void> {
    return this.queue
  }

  private async print(b: CommittedBatch): Promise<void> {
    try {
      const { split, alerts } = await this.lake.use(async (lake) => ({
        split: splitBatch(b, b.quarantined ? await quarantinedOrders(lake.reader, b.batchId) : 0),
        alerts: b.alerts ? await alertsOfBatch(lake.reader, b.batchId, ALERTS_PER_BATCH) : []
      }))
      this.log(formatBatch(b, split))
      for (const line of formatAlerts(b.batchId, alerts, b.alerts)) this.log(line)
    } catch (err) {
      // the batch is committed whatever its report does; say what is missing and go on
      this.log(`batch ${b.batchId}: committed (${b.rowsRead} rows in); its report failed: ${(err as Error).message}`)
    }
  }
}
