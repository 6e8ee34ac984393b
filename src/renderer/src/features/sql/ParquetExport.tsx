import { useState } from 'react'
import type { ParquetAnswer } from '../../../../shared/sql'
import { formatNumber } from '../../lib/format'
import { useStores } from '../../stores/context'
import { Card } from '../../ui/Card'
import { FolderInput } from '../../ui/FolderInput'

// Export as Parquet: the engine runs the editor's statement again, checked as for Run, and
// writes every row (no row cap) to a new `<name>.parquet` in a folder the user chose
// (lake/sql-parquet.ts). A file that exists is never replaced; the engine says so instead.

const DIR_KEY = 'streamdesk.sql.parquetDir'

export function ParquetExport({ text }: { text: string }) {
  const { client } = useStores()
  const [dir, setDir] = useState(() => localStorage.getItem(DIR_KEY) ?? '')
  const [name, setName] = useState('')
  const [busy, setBusy] = useState(false)
  const [answer, setAnswer] = useState<ParquetAnswer | null>(null)
  const [error, setError] = useState<string | null>(null)

  const exportNow = async () => {
    setBusy(true)
    setAnswer(null)
    setError(null)
    try {
      localStorage.setItem(DIR_KEY, dir)
      setAnswer(await client.invoke('sql.exportParquet', { sql: text, dir, name: name.trim() }))
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <Card title="Export as Parquet" hint="every row, no row cap" testId="sql-parquet">
      <div className="field">
        <label htmlFor="sql-parquet-dir">Folder</label>
        <FolderInput id="sql-parquet-dir" value={dir} placeholder="a folder for the file" onChange={setDir} onPicked={setDir} testId="sql-parquet-dir" />
      </div>
      <div className="input-row">
        <input className="input" value={name} placeholder="file name" spellCheck={false} onChange={(e) => setName(e.target.value)} data-testid="sql-parquet-name" />
        <button
          type="button"
          className="btn"
          disabled={busy || dir.trim() === '' || name.trim() === '' || text.trim() === ''}
          onClick={() => void exportNow()}
          data-testid="sql-export-parquet"
        >
          {busy ? 'Exporting…' : 'Export'}
        </button>
      </div>
      {answer?.ok && (
        <p className="muted" data-testid="sql-parquet-done">
          {formatNumber(answer.rows)} row{answer.rows === 1 ? '' : 's'} written to {answer.file}
        </p>
      )}
      {(error ?? (answer && !answer.ok ? answer.problem.message : null)) && (
        <p className="error" data-testid="sql-parquet-error">
          {error ?? (answer && !answer.ok ? answer.problem.message : null)}
        </p>
      )}
    </Card>
  )
}
