import { useCallback, useEffect, useState } from 'react'
import type { SavedQuery } from '../../../../shared/sql'
import { useStores } from '../../stores/context'
import { Card } from '../../ui/Card'
import { FolderInput } from '../../ui/FolderInput'

// Saved queries: `.sql` files in a folder the user chooses (engine/saved-queries.ts). Clicking
// one loads it into the editor; Save writes the editor's text, and asks before replacing a file.

const DIR_KEY = 'streamdesk.sql.savedDir'

export function SavedQueries({ text, onLoad }: { text: string; onLoad(sql: string): void }) {
  const { client } = useStores()
  const [dir, setDir] = useState(() => localStorage.getItem(DIR_KEY) ?? '')
  const [queries, setQueries] = useState<SavedQuery[] | null>(null)
  const [name, setName] = useState('')
  const [confirm, setConfirm] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)

  const list = useCallback(
    async (folder: string) => {
      if (folder.trim() === '') return setQueries(null)
      try {
        setQueries((await client.invoke('sql.savedList', { dir: folder })).queries)
        setError(null)
        localStorage.setItem(DIR_KEY, folder)
      } catch (err) {
        setQueries(null)
        setError(err instanceof Error ? err.message : String(err))
      }
    },
    [client]
  )

  // the folder remembered from last time
  useEffect(() => {
    void list(localStorage.getItem(DIR_KEY) ?? '')
  }, [list])

  const save = async (overwrite: boolean) => {
    try {
      const r = await client.invoke('sql.savedWrite', { dir, name: name.trim(), sql: text, overwrite })
      setConfirm(r.status === 'exists' ? r.name : null)
      setError(null)
      if (r.status === 'saved') await list(dir)
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }

  const load = async (query: string) => {
    try {
      onLoad((await client.invoke('sql.savedRead', { dir, name: query })).sql)
      setName(query)
      setError(null)
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err))
    }
  }

  return (
    <Card title="Saved queries" testId="sql-saved">
      <div className="field">
        <label htmlFor="sql-saved-dir">Folder</label>
        <FolderInput
          id="sql-saved-dir"
          value={dir}
          placeholder="a folder for .sql files"
          onChange={setDir}
          onPicked={(picked) => {
            setDir(picked)
            void list(picked)
          }}
          onKeyDown={(e) => e.key === 'Enter' && void list(dir)}
          onBlur={() => void list(dir)}
          testId="sql-saved-dir"
        />
      </div>
      {queries && queries.length === 0 && <p className="muted">No .sql files in this folder yet.</p>}
      {queries && queries.length > 0 && (
        <ul className="sql-saved-list" data-testid="sql-saved-list">
          {queries.map((q) => (
            <li key={q.name}>
              <button type="button" className="btn ghost small" title={`${q.name}.sql · ${q.modifiedAt}`} onClick={() => void load(q.name)}>
                {q.name}
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="input-row">
        <input
          className="input"
          value={name}
          placeholder="name"
          spellCheck={false}
          onChange={(e) => {
            setName(e.target.value)
            setConfirm(null)
          }}
          data-testid="sql-saved-name"
        />
        <button type="button" className="btn" disabled={dir.trim() === '' || name.trim() === ''} onClick={() => void save(false)} data-testid="sql-saved-save">
          Save
        </button>
      </div>
      {confirm && (
        <div className="input-row" role="alert">
          <span>{confirm}.sql exists.</span>
          <button type="button" className="btn danger small" onClick={() => void save(true)} data-testid="sql-saved-replace">
            Replace
          </button>
          <button type="button" className="btn ghost small" onClick={() => setConfirm(null)}>
            Keep
          </button>
        </div>
      )}
      {error && (
        <p className="error" data-testid="sql-saved-error">
          {error}
        </p>
      )}
    </Card>
  )
}
