import { open, readFile } from 'node:fs/promises'
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
    const fh = await open(this.path, 'a')
    try {
      await fh.write(lines.join('\n') + '\n')
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
