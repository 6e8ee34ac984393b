import { describe, expect, it } from 'vitest'
import { assignPartitions } from '../../src/main/sources/kafka-group'

// The shared group's leader (docs/SCALING.md): partition n of both topics to one member, so a
// customer's profile and orders (both keyed by customer_id) land in one lake.

const topics = (orders: number[], customers: number[]) =>
  new Map([
    ['customers', customers],
    ['orders', orders]
  ])

describe('assignPartitions', () => {
  it('gives partition n of every topic to the same member, round-robin over members sorted by id', () => {
    const plan = assignPartitions(['m-b', 'm-a'], topics([0, 1, 2, 3], [0, 1, 2, 3]))
    expect(Object.fromEntries(plan.get('m-a')!)).toEqual({ customers: [0, 2], orders: [0, 2] })
    expect(Object.fromEntries(plan.get('m-b')!)).toEqual({ customers: [1, 3], orders: [1, 3] })
  })

  it('answers the same whatever order the members and partitions come in', () => {
    const a = assignPartitions(['x', 'y', 'z'], topics([4, 0, 2, 1, 3], [1, 0]))
    const b = assignPartitions(['z', 'x', 'y'], topics([0, 1, 2, 3, 4], [0, 1]))
    expect([...a].map(([m, t]) => [m, Object.fromEntries(t)])).toEqual([...b].map(([m, t]) => [m, Object.fromEntries(t)]))
  })

  it('assigns every partition exactly once, also when the topics differ in size or members outnumber partitions', () => {
    const plan = assignPartitions(['a', 'b', 'c'], topics([0, 1, 2, 3, 4, 5], [0, 1]))
    const all = [...plan.values()].flatMap((t) => [...t].flatMap(([topic, ps]) => ps.map((p) => `${topic}/${p}`))).sort()
    expect(all).toEqual(['customers/0', 'customers/1', ...[0, 1, 2, 3, 4, 5].map((p) => `orders/${p}`)].sort())
    const many = assignPartitions(['a', 'b', 'c'], topics([0], [0]))
    expect([...many.values()].map((t) => [...t.values()].flat().length)).toEqual([2, 0, 0])
  })
})
