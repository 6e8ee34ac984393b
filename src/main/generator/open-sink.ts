import { FileSink } from './file-sink'
import type { EventSink, SinkSpec } from './sink'

/** Opens the sink a SinkSpec describes (a Kafka sink plugs in here as another case). */
export async function openSink(spec: SinkSpec): Promise<EventSink> {
  switch (spec.kind) {
    case 'file': {
      const sink = new FileSink({ dir: spec.dir })
      await sink.open()
      return sink
    }
    default: {
      const kind: string = (spec as { kind: string }).kind
      throw new Error(`unknown sink kind '${kind}'`)
    }
  }
}
