import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { importListFile, ListError, listSetFromJson, listSetToJson, parseListText, withList } from '../../src/main/rules'
import { cleanupTempDirs, makeTempDir } from '../support/lake-fixtures'

// Named lists: one value per line from a text file, and the JSON form they are kept in until
// the lake stores them.

afterAll(cleanupTempDirs)

describe('list text', () => {
  it('takes one trimmed value per line, skipping blank lines and # comments, keeping the first of duplicates', () => {
    const text = '\uFEFF# blocked after chargebacks\r\ncus_1\n  cus_2  \n\n\t\n# cus_3 was cleared\ncus_1\ncus#4\r\n   # indented comment\nlast-without-newline'
    expect(parseListText(text)).toEqual(['cus_1', 'cus_2', 'cus#4', 'last-without-newline'])
  })

  it('gives nothing for an empty file or one of comments only', () => {
    expect(parseListText('')).toEqual([])
    expect(parseListText('# a\n#b\n\n')).toEqual([])
  })

  it('names the line of a value that is too long', () => {
    expect(() => parseListText(`ok\n\n${'x'.repeat(1001)}\n`)).toThrow(/line 3: a value is at most 1000 characters \(this one has 1001\)/)
  })
})

describe('importing a list file', () => {
  const dir = makeTempDir('streamdesk-lists-')

  it('reads the file into a named list', async () => {
    const file = join(dir, 'blocked.txt')
    writeFileSync(file, '# from the chargeback report\nC-100\nC-200\n\nC-100\n')
    expect(await importListFile(file, 'blocked', 'chargebacks')).toEqual({ name: 'blocked', description: 'chargebacks', values: ['C-100', 'C-200'] })
  })

  it('reads 100,000 values', async () => {
    const file = join(dir, 'many.txt')
    const values = Array.from({ length: 100_000 }, (_, i) => `cus_${i}`)
    writeFileSync(file, values.join('\n'))
    expect((await importListFile(file, 'many')).values).toEqual(values)
  })

  it('says what is wrong with a missing file or a bad name', async () => {
    await expect(importListFile(join(dir, 'nope.txt'), 'x')).rejects.toThrow(/nope\.txt does not exist/)
    const file = join(dir, 'ok.txt')
    writeFileSync(file, 'a\n')
    await expect(importListFile(file, 'Blocked List')).rejects.toThrow(ListError)
    await expect(importListFile(file, 'Blocked List')).rejects.toThrow(/name: must start with a lower-case letter/)
  })
})

describe('JSON form', () => {
  it('round-trips, sorted by name', () => {
    const a = { name: 'trusted', description: '', values: ['c-9'] }
    const b = { name: 'blocked', description: 'bad', values: ['c-1', 'c-2'] }
    const set = withList(listSetFromJson({ lists: [a] }), b)
    expect(listSetToJson(set)).toEqual({ lists: [b, a] })
    expect(listSetFromJson(JSON.parse(JSON.stringify(listSetToJson(set))))).toEqual(set)
  })

  it('replaces a list of the same name', () => {
    const set = withList(listSetFromJson({ lists: [{ name: 'x', values: ['1'] }] }), { name: 'x', description: '', values: ['2'] })
    expect(set.get('x')!.values).toEqual(['2'])
  })

  it('refuses duplicate names, duplicate or empty values, unknown keys', () => {
    expect(() => listSetFromJson({ lists: [{ name: 'x', values: [] }, { name: 'x', values: [] }] })).toThrow(/list names must be unique/)
    expect(() => listSetFromJson({ lists: [{ name: 'x', values: ['a', 'a'] }] })).toThrow(/lists\.0\.values: values must be unique/)
    expect(() => listSetFromJson({ lists: [{ name: 'x', values: [''] }] })).toThrow(/a value cannot be empty/)
    expect(() => listSetFromJson({ lists: [{ name: 'x', values: [], kind: 'ids' }] })).toThrow(/kind/)
  })
})
