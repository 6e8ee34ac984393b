import type { PipelineStatus } from '../../../../shared/dto'
import type { Settings } from '../../../../shared/settings'

export interface WaitingHint {
  title: string
  body: string
  busy: boolean
}

/** What the empty dashboard says: why there is no data yet and what to check. */
export function waitingHint(status: PipelineStatus | null, settings: Settings | null): WaitingHint {
  const title = 'Waiting for the first batch…'
  if (!status) return { title: 'Connecting to the engine…', body: 'The dashboard fills in as soon as the engine answers.', busy: true }
  switch (status.state) {
    case 'stopped':
      return {
        title,
        body:
          status.source.kind === 'generator'
            ? 'The pipeline is stopped. Press Start to run the built-in generator and the pipeline.'
            : `The pipeline is stopped. Press Start to read from ${status.source.label}.`,
        busy: false
      }
    case 'starting':
      return { title, body: `Starting the pipeline on ${status.source.label}…`, busy: true }
    case 'stopping':
      return { title: 'Stopping…', body: 'The pipeline finishes its current batch and stops.', busy: true }
    case 'error':
      return {
        title: 'The pipeline stopped with an error',
        body: `${sentence(status.message ?? 'No details were reported.')} Fix the cause (see Settings) and press Start.`,
        busy: false
      }
    case 'running': {
      const trigger = settings ? ` A batch runs every ${settings.pipeline.triggerMs} ms.` : ''
      if (status.source.kind === 'kafka') {
        const k = settings?.source.kafka
        return {
          title,
          body: `Running, but nothing has arrived yet. Check that Kafka at ${k ? k.servers.join(', ') : status.source.label} is reachable and that topic ${k?.ordersTopic ?? 'ecommerce_orders'} receives messages.`,
          busy: true
        }
      }
      const input = settings?.source.inputPath ?? status.source.label
      if (status.source.kind === 'generator' && settings?.generator.enabled !== false && status.generator.running) {
        return {
          title,
          body: `The generator is writing orders to ${input}; the first batch commits within a few seconds.${trigger}`,
          busy: true
        }
      }
      if (status.source.kind === 'generator' && settings?.generator.enabled === false) {
        return {
          title,
          body: `Running, but the built-in generator is turned off. Turn it on in Settings, or put JSON-lines files into ${input}/orders.`,
          busy: true
        }
      }
      return {
        title,
        body: `Running, but nothing has arrived yet. Check the input folder: JSON-lines files should appear in ${input}/orders (and ${input}/customers).${trigger}`,
        busy: true
      }
    }
  }
}

/** The engine's messages are clauses ("input folder … does not exist"); a sentence ends with a full stop. */
const sentence = (text: string): string => (/[.!?…]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`)
