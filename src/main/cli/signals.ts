/** First Ctrl+C stops gracefully; a second one exits at once. Returns a disposer. */
export function onStopSignal(stop: () => void): () => void {
  let count = 0
  const handler = () => {
    count++
    if (count === 1) stop()
    else process.exit(130)
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}
