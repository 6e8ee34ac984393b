import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { MAX_LIST_VALUES, MAX_VALUE_LENGTH, parseListText } from '../../shared/list-text'

// Named lists of values (customer ids, emails, countries) that conditions test membership in:
//   customer_id in list('blocked')
// Lists are data, kept apart from the rules that use them, so blocking one more customer is
// not a new ruleset. The lake keeps them in rule_lists (lake/rules-store.ts); as a file their
// form is this JSON:
//   {"lists": [{"name": "blocked", "description": "...", "values": ["c-1", "c-2"]}]}

export const LIST_NAME = /^[a-z][a-z0-9_-]{0,63}$/
export { parseListText }

export const valueListSchema = z
  .object({
    name: z.string().regex(LIST_NAME, 'must start with a lower-case letter and hold only a-z, 0-9, _ and - (at most 64)'),
    description: z.string().max(500).default(''),
    values: z
      .array(z.string().min(1, 'a value cannot be empty').max(MAX_VALUE_LENGTH))
      .max(MAX_LIST_VALUES)
      .refine((v) => new Set(v).size === v.length, 'values must be unique')
  })
  .strict()

export type ValueList = z.infer<typeof valueListSchema>

export const listsFileSchema = z
  .object({ lists: z.array(valueListSchema) })
  .strict()
  .refine((f) => new Set(f.lists.map((l) => l.name)).size === f.lists.length, 'list names must be unique')

/** Lists by name: what conditions are checked and compiled against. */
export type ListSet = ReadonlyMap<string, ValueList>

export class ListError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ListError'
  }
}

export function listSetFromJson(json: unknown): ListSet {
  const r = listsFileSchema.safeParse(json)
  if (!r.success) {
    throw new ListError(r.error.issues.map((i) => `${i.path.join('.') || '(lists)'}: ${i.message}`).join('; '))
  }
  return new Map(r.data.lists.map((l) => [l.name, l]))
}

export function listSetToJson(lists: ListSet): { lists: ValueList[] } {
  return { lists: [...lists.values()].sort((a, b) => (a.name < b.name ? -1 : 1)) }
}

/** Values by name, as the compiler binds them. */
export function listValues(lists: ListSet): ReadonlyMap<string, readonly string[]> {
  return new Map([...lists].map(([name, l]) => [name, l.values]))
}

/** A list named `name` holding the values of a text file (see parseListText). */
export async function importListFile(path: string, name: string, description = ''): Promise<ValueList> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ListError(`list file ${path} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`}`)
  }
  let values: string[]
  try {
    values = parseListText(text)
  } catch (err) {
    throw new ListError(`list file ${path}, ${(err as Error).message}`)
  }
  const r = valueListSchema.safeParse({ name, description, values })
  if (!r.success) throw new ListError(`list ${JSON.stringify(name)}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  return r.data
}

/** `lists` with `list` added, or replacing the list of the same name. */
export function withList(lists: ListSet, list: ValueList): ListSet {
  return new Map([...lists, [list.name, list]])
}
