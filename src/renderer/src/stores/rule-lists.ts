import { createStore, type StoreApi } from 'zustand/vanilla'
import type { EngineClient } from '../../../shared/api'
import { parseListText } from '../../../shared/list-text'
import type { ValueListDto } from '../../../shared/rules'
import { toApiError } from '../client/errors'

// The Rules tab's named lists (what `x in list('name')` tests): every list, and one open for
// editing as text, one value per line. The text is read the way `rules list-import` reads a file,
// so a list saved here and one imported from the same file hold the same values. A list is
// replaced whole (lists.set).

export type ListField = 'name' | 'description' | 'values'

export interface ListDraft {
  name: string
  description: string
  /** The values, one per line. */
  text: string
  /** Not in the lake yet: its name can still change. */
  isNew: boolean
}

export interface RuleListsState {
  lists: ValueListDto[]
  draft: ListDraft | null
  /** Why the last save was refused, by field. */
  errors: Partial<Record<ListField, string>>
  /** A failure that is no field's (reading the lists, the engine). */
  error: string | null
  saving: boolean
  notice: string | null
  load(): Promise<void>
  open(name: string): void
  create(): void
  edit(patch: Partial<Pick<ListDraft, 'name' | 'description' | 'text'>>): void
  /** A text file's contents become the values, read as a save would read them. */
  importText(text: string): void
  close(): void
  /** Stores the draft; true when the lake holds it. */
  save(): Promise<boolean>
}

const FIELDS = new Set<string>(['name', 'description', 'values'])

export function createRuleLists(client: EngineClient): StoreApi<RuleListsState> {
  return createStore<RuleListsState>((set, get) => {
    const editDraft = (patch: Partial<ListDraft>, errors: Partial<Record<ListField, string>> = {}) => {
      const draft = get().draft
      if (draft) set({ draft: { ...draft, ...patch }, errors, notice: null })
    }
    return {
      lists: [],
      draft: null,
      errors: {},
      error: null,
      saving: false,
      notice: null,
      async load() {
        try {
          set({ lists: await client.invoke('lists.get', {}), error: null })
        } catch (err) {
          set({ error: toApiError(err).message })
        }
      },
      open(name) {
        const list = get().lists.find((l) => l.name === name)
        if (list) set({ draft: { name: list.name, description: list.description, text: list.values.join('\n'), isNew: false }, errors: {}, error: null, notice: null })
      },
      create() {
        set({ draft: { name: '', description: '', text: '', isNew: true }, errors: {}, error: null, notice: null })
      },
      edit(patch) {
        // an edited field's error no longer applies; the others still do
        const errors = { ...get().errors }
        if (patch.name !== undefined) delete errors.name
        if (patch.description !== undefined) delete errors.description
        if (patch.text !== undefined) delete errors.values
        editDraft(patch, errors)
      },
      importText(text) {
        try {
          editDraft({ text: parseListText(text).join('\n') })
        } catch (err) {
          editDraft({}, { values: `the file: ${(err as Error).message}` })
        }
      },
      close() {
        set({ draft: null, errors: {}, notice: null })
      },
      async save() {
        const draft = get().draft
        if (!draft || get().saving) return false
        const name = draft.name.trim()
        // a new list must not silently replace one the rules may already use
        if (draft.isNew && get().lists.some((l) => l.name === name)) {
          set({ errors: { name: `a list named ${name} exists: open it to change it` } })
          return false
        }
        let values: string[]
        try {
          values = parseListText(draft.text)
        } catch (err) {
          set({ errors: { values: (err as Error).message } })
          return false
        }
        set({ saving: true, errors: {}, error: null, notice: null })
        try {
          const saved = await client.invoke('lists.set', { name, description: draft.description.trim(), values })
          await get().load()
          set({
            saving: false,
            draft: { name: saved.name, description: saved.description, text: saved.values.join('\n'), isNew: false },
            notice: `list ${saved.name} saved: ${saved.values.length.toLocaleString('en-US')} value${saved.values.length === 1 ? '' : 's'}`
          })
          return true
        } catch (err) {
          const e = toApiError(err)
          const errors: Partial<Record<ListField, string>> = {}
          for (const f of e.fields ?? []) {
            const field = f.field.split('.')[0]
            if (FIELDS.has(field)) errors[field as ListField] ??= f.message
          }
          set({ saving: false, errors, error: Object.keys(errors).length > 0 ? null : e.message })
          return false
        }
      }
    }
  })
}
