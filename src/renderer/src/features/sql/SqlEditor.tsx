import { useEffect, useRef } from 'react'
import { basicSetup } from 'codemirror'
import { EditorView, keymap } from '@codemirror/view'
import { Compartment, EditorSelection, Prec } from '@codemirror/state'
import { PostgreSQL, sql, type SQLNamespace } from '@codemirror/lang-sql'
import type { SqlPosition, SqlSchemaTable } from '../../../../shared/sql'

// The console's editor: CodeMirror 6 with its SQL language (PostgreSQL's dialect is the closest
// to DuckDB's it ships), completion of the lake's tables and columns, and Ctrl/Cmd+Enter to run.
// This component owns the view: created once, reconfigured when the schema changes, destroyed
// on unmount. The text lives in the view; the parent hears about changes through onChange.

export interface SqlEditorProps {
  initial: string
  schema: SqlSchemaTable[]
  onChange(text: string): void
  onRun(): void
  /** Moves the cursor to a problem DuckDB reported, so the user sees where it is. */
  focusAt?: SqlPosition | null
  /** Replaces the whole text (a saved query opened); a new object each time. */
  replace?: { text: string } | null
}

function namespace(schema: SqlSchemaTable[]): SQLNamespace {
  return Object.fromEntries(schema.map((t) => [t.name, t.columns.map((c) => ({ label: c.name, type: 'property', detail: c.type }))]))
}

const theme = EditorView.theme({
  '&': { fontSize: '13px', border: '1px solid var(--border)', borderRadius: 'var(--radius-sm)', background: 'var(--surface)' },
  '&.cm-focused': { outline: '2px solid var(--accent-soft)' },
  '.cm-content': { fontFamily: 'var(--font-mono)', caretColor: 'var(--text)' },
  '.cm-gutters': { background: 'var(--surface-2)', color: 'var(--text-faint)', borderRight: '1px solid var(--border)' },
  '.cm-scroller': { minHeight: '140px', maxHeight: '320px' },
  '.cm-activeLine, .cm-activeLineGutter': { background: 'var(--surface-hover)' }
})

export function SqlEditor({ initial, schema, onChange, onRun, focusAt, replace }: SqlEditorProps) {
  const host = useRef<HTMLDivElement>(null)
  const view = useRef<EditorView | null>(null)
  const language = useRef(new Compartment())
  // the view is created once; these always call the latest props
  const handlers = useRef({ onChange, onRun })
  handlers.current = { onChange, onRun }

  useEffect(() => {
    const v = new EditorView({
      parent: host.current!,
      doc: initial,
      extensions: [
        Prec.highest(
          keymap.of([
            {
              key: 'Mod-Enter',
              run: () => {
                handlers.current.onRun()
                return true
              }
            }
          ])
        ),
        basicSetup,
        language.current.of(sql({ dialect: PostgreSQL, upperCaseKeywords: true })),
        theme,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ 'aria-label': 'SQL statement', 'data-testid': 'sql-editor' }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) handlers.current.onChange(u.state.doc.toString())
        })
      ]
    })
    view.current = v
    return () => {
      v.destroy()
      view.current = null
    }
    // the initial text seeds the view once; later text is the view's own
  }, [])

  useEffect(() => {
    view.current?.dispatch({
      effects: language.current.reconfigure(sql({ dialect: PostgreSQL, upperCaseKeywords: true, schema: namespace(schema) }))
    })
  }, [schema])

  useEffect(() => {
    const v = view.current
    if (!v || !focusAt) return
    const at = Math.min(focusAt.offset, v.state.doc.length)
    v.dispatch({ selection: EditorSelection.cursor(at), scrollIntoView: true })
    v.focus()
  }, [focusAt])

  useEffect(() => {
    const v = view.current
    if (!v || !replace) return
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: replace.text } })
  }, [replace])

  return <div ref={host} className="sql-editor" />
}
