import { FileSink } from './file-sink'
import { KafkaSink } from './kafka-sink'
import type { EventSink, SinkSpec } from './sink'

/** Opens the sink a SinkSpec describes. */
export async function openSink(spec: SinkSpec): Promise<EventSink> {
  switch (spec.kind) {
    case 'file': {
      const sink = new FileSink({ dir: spec.dir })
      await sink.open()
      return sink
    }
    case 'kafka': {
      const sink = new KafkaSink({
        connection: spec.connection,
        ordersTopic: spec.ordersTopic,
        customersTopic: spec.customersTopic,
        compression: spec.compression
      })
      try {
        await sink.open()
      } catch (err) {
        await sink.close()
        throw err
      }
      return sink
    }
    default: {
      const kind: string = (spec as { kind: string }).kind
      throw new Error(`unknown sink kind '${kind}'`)
    }
  }
}
