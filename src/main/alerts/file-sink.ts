import { open, readFile } from 'node:fs/promises'
import type { HealthEvent } from '../../shared/health'
import type { OutboxMessage } from '../lake/alert-outbox'
import type { AlertSink } from './sink'

// An NDJSON file: one line per alert, carrying the message's key in `idempotency_key`, and a
// line {"idempotency_key", "more"} when the message counted alerts it did not list. The whole
// message is one appended write, synced before the outbox says delivered. A message that may
// have been written before (a crash between the write and the outbox update) is looked up in the
// file first, so the file holds each alert once.

export class FileSink implements AlertSink {
  constructor(
    readonly id: string,
    private readonly path: string
  ) {}

  async send(message: OutboxMessage, resend: boolean): Promise<void> {
    if (resend && (await this.holds(message.key))) return
    const lines = message.alerts.map((a) => JSON.stringify({ ...a, idempotency_key: message.key }))
    if (message.more > 0) lines.push(JSON.stringify({ idempotency_key: message.key, more: message.more }))
    await this.append(lines.join('\n') + '\n')
  }

  /** One line {"health": {...}, "idempotency_key"}, written once like an alert message. */
  async sendHealth(event: HealthEvent, key: string, resend: boolean): Promise<void> {
    if (resend && (await this.holds(key))) return
    await this.append(JSON.stringify({ health: event, idempotency_key: key }) + '\n')
  }

  private async append(text: string): Promise<void> {
    const fh = await open(this.path, 'a')
    try {
      await fh.write(text)
      await fh.datasync()
    } finally {
      await fh.close()
    }
  }

  private async holds(key: string): Promise<boolean> {
    const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return ''
      throw err
    })
    return text.includes(`"idempotency_key":"${key}"`)
  }

  async close(): Promise<void> {}
}
