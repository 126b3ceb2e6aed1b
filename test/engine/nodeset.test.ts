import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { foldHosts } from '../../src/engine/targets/nodeset.js'
import { expandRanges, hostLabel, parseHosts } from '../../src/engine/targets/hosts.js'

/** Splits a folded list at the commas outside brackets and expands each item with the hosts input's range syntax. */
function expandFolded(folded: string): string[] {
  if (folded === '') return []
  const items: string[] = []
  let depth = 0
  let current = ''
  for (const ch of folded) {
    if (ch === '[') depth++
    if (ch === ']') depth--
    if (ch === ',' && depth === 0) {
      items.push(current)
      current = ''
    } else current += ch
  }
  items.push(current)
  return items.flatMap((item) => expandRanges(item))
}

/** Asserts the folded text and that it expands back to exactly the labels, each once. */
function folds(labels: string[], expected: string): void {
  const folded = foldHosts(labels)
  assert.equal(folded, expected)
  assertRoundTrip(labels, folded)
}

function assertRoundTrip(labels: string[], folded: string): void {
  const expanded = expandFolded(folded)
  assert.equal(new Set(expanded).size, expanded.length, `${folded} expands to duplicates`)
  assert.deepEqual([...expanded].sort(), [...new Set(labels)].sort(), `${folded} does not expand back to the labels`)
}

const seq = (prefix: string, from: number, to: number, width = 1, suffix = ''): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => `${prefix}${String(from + i).padStart(width, '0')}${suffix}`)

describe('foldHosts: one numeric field', () => {
  it('folds a padded run that grows past its padding', () => folds(seq('web', 1, 37, 2, '.example.com'), 'web[01-37].example.com'))
  it('folds runs and singles', () => folds(['web1', 'web2', 'web3', 'web5'], 'web[1-3,5]'))
  it('keeps zero padding: web09,web10', () => folds(['web09', 'web10'], 'web[09-10]'))
  it('keeps no padding: web9,web10', () => folds(['web9', 'web10'], 'web[9-10]'))
  it('keeps different paddings apart: web9,web010', () => folds(['web9', 'web010'], 'web[9,010]'))
  it('keeps equal values of different padding apart: web1,web01,web001', () => folds(['web001', 'web01', 'web1'], 'web[1,01,001]'))
  it('padded runs of several widths', () => folds([...seq('n', 1, 3, 2), ...seq('n', 1, 3, 3)], 'n[01-03,001-003]'))
  it('padded to three digits past 99', () => folds(seq('node', 98, 101, 3), 'node[098-101]'))
  it('starts at zero', () => folds(['h0', 'h1', 'h2', 'h00', 'h01'], 'h[0-2,00-01]'))
  it('numbers out of order ascend inside brackets', () => folds(['web5', 'web3', 'web4', 'web1'], 'web[1,3-5]'))
  it('orders bracket items by value, the less padded first for equal values', () => folds(['h5', 'h001', 'h1'], 'h[1,001,5]'))
  it('a single host stays as written', () => folds(['web01.example.com'], 'web01.example.com'))
  it('an empty list folds to an empty string', () => folds([], ''))
  it('duplicates fold once', () => folds(['web1', 'web2', 'web1'], 'web[1-2]'))
  it('folds on the last field first when either field would do', () => folds(['db2.dc1', 'db3.dc1', 'db2.dc2'], 'db2.dc[1-2],db3.dc1'))
  it('keeps names that differ in case apart', () => folds(['web1', 'WEB2', 'web3'], 'web[1,3],WEB2'))
})

describe('foldHosts: several numeric fields', () => {
  it('folds the last field when the rest differs', () => {
    folds([...seq('rack1-node', 1, 4, 2), ...seq('rack2-node', 1, 2, 2)], 'rack1-node[01-04],rack2-node[01-02]')
  })
  it('folds a full cartesian product on both fields', () => {
    folds([...seq('rack1-node', 1, 4, 2), ...seq('rack2-node', 1, 4, 2)], 'rack[1-2]-node[01-04]')
  })
  it('folds a product on the first field when the last is fixed', () => folds(['rack1-node01', 'rack2-node01', 'rack3-node01'], 'rack[1-3]-node01'))
  it('folds a three-field product', () => {
    const labels = [1, 2].flatMap((dc) => [1, 2, 3].flatMap((rack) => seq(`dc${dc}-r${rack}-n`, 1, 2)))
    folds(labels, 'dc[1-2]-r[1-3]-n[1-2]')
  })
  it('leaves a product with a hole as the largest folds it finds', () => {
    const labels = [...seq('r1n', 1, 3), ...seq('r2n', 1, 3), ...seq('r3n', 1, 2)]
    folds(labels, 'r[1-2]n[1-3],r3n[1-2]')
  })
})

describe('foldHosts: addresses, ports and other labels', () => {
  it('folds the last octet of IPv4 addresses', () => folds(seq('10.0.0.', 1, 5), '10.0.0.[1-5]'))
  it('folds IPv4 addresses across octets when they form a product', () => {
    folds(['10.0.0.1', '10.0.0.2', '10.0.1.1', '10.0.1.2'], '10.0.[0-1].[1-2]')
  })
  it('keeps ports as written and folds the host part', () => folds(['web1:2222', 'web2:2222', 'web3:2200'], 'web[1-2]:2222,web3:2200'))
  it('does not fold across ports', () => folds(['host:2222', 'host:2223'], 'host:2222,host:2223'))
  it('keeps a host with and without a port apart', () => folds(['web1', 'web1:2222', 'web2'], 'web[1-2],web1:2222'))
  it('folds IPv4 addresses with a port', () => folds(['10.0.0.1:2222', '10.0.0.2:2222'], '10.0.0.[1-2]:2222'))
  it('leaves IPv6 labels unfolded', () => {
    const labels = ['2001:db8::1', '2001:db8::2', '[2001:db8::3]:2222', '[2001:db8::4]:2222', '::1', 'fe80::1%eth0']
    folds(labels, labels.join(','))
  })
  it('keeps names without digits in a comma list', () => folds(['alpha', 'beta', 'gamma.example.com'], 'alpha,beta,gamma.example.com'))
  it('orders items by their first label in the input', () => {
    folds(['web2', 'db1', 'web1', 'cache', 'db2', 'web3'], 'web[1-3],db[1-2],cache')
    folds(['web1', '2001:db8::1', 'web2', 'db1'], 'web[1-2],2001:db8::1,db1')
  })
  it('keeps digit runs too long for exact integers as text', () => {
    const big = ['h1234567890123456789', 'h1234567890123456790']
    folds(big, big.join(','))
    folds(['a1234567890123456789b1', 'a1234567890123456789b2'], 'a1234567890123456789b[1-2]')
  })
  it('folds 5000 hosts (the most one run takes) quickly enough to not matter', () => {
    folds(seq('web', 1, 5000, 4, '.example.com'), 'web[0001-5000].example.com')
    const ips = [0, 1, 2, 3, 4].flatMap((c) => seq(`10.1.${c}.`, 0, 249))
    folds(ips, '10.1.[0-4].[0-249]')
  })
})

// ---- property: folding round-trips through the hosts input's range syntax --------

/** A numeric field: value and padding width (1 = none). */
const field = fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 1, max: 4 })).map(([v, w]) => String(v).padStart(w, '0'))
const word = fc.constantFrom('web', 'db', 'rack', 'n', 'node-', 'a.b', 'x_y', 'WEB')
const sep = fc.constantFrom('', '-', '.', '.example.com', 'x')
/** A host name with up to three numeric fields, optionally with a port. */
const hostName = fc
  .tuple(word, fc.array(fc.tuple(field, sep), { maxLength: 3 }), fc.option(fc.constantFrom(2222, 2200, 22022), { nil: undefined }))
  .map(([head, parts, port]) => head + parts.map(([f, s]) => f + s).join('') + (port === undefined ? '' : `:${port}`))
const ipv4 = fc
  .tuple(fc.constantFrom('10.0', '192.168'), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }))
  .map(([net, c, d]) => `${net}.${c}.${d}`)
/** Families of similar labels, so that folds happen: a few shapes, many numbers. */
const labelList = fc.array(fc.oneof({ weight: 4, arbitrary: hostName }, { weight: 1, arbitrary: ipv4 }), { maxLength: 150 })
const dense = fc
  .tuple(
    fc.constantFrom('r', 'web', 'n-'),
    fc.constantFrom('', '-n', '.s'),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 12 })), { maxLength: 80 }),
  )
  .map(([a, b, cells]) => cells.map(([x, w, y]) => `${a}${String(x).padStart(w, '0')}${b}${y}`))

describe('foldHosts property: expanding the folded list gives back exactly the labels', () => {
  it('over mixed host names, IPv4 addresses and ports', () => {
    fc.assert(
      fc.property(labelList, (labels) => assertRoundTrip(labels, foldHosts(labels))),
      { numRuns: 500 },
    )
  })

  it('over dense two-field families (many products)', () => {
    fc.assert(
      fc.property(dense, (labels) => assertRoundTrip(labels, foldHosts(labels))),
      { numRuns: 500 },
    )
  })

  it('through the hosts input parser: the folded list is a valid hosts input for the same hosts', () => {
    // parseHosts compares host names case-insensitively, so WEB1 and web1 would be one host twice.
    const distinct = labelList.filter((l) => l.length > 0 && new Set(l.map((x) => x.toLowerCase())).size === new Set(l).size)
    fc.assert(
      fc.property(distinct, (labels) => {
        const folded = foldHosts(labels)
        const parsed = parseHosts(folded).map((e) => hostLabel(e.host, e.port ?? 22))
        assert.deepEqual(parsed.sort(), [...new Set(labels)].sort())
      }),
      { numRuns: 300 },
    )
  })

  it('is stable: the same labels in the same order fold the same way, and the fold does not depend on duplicates', () => {
    fc.assert(
      fc.property(labelList, (labels) => {
        assert.equal(foldHosts(labels), foldHosts([...labels]))
        assert.equal(foldHosts([...labels, ...labels]), foldHosts(labels))
      }),
      { numRuns: 200 },
    )
  })
})

describe('foldHosts: labels with a user (several users on one host)', () => {
  it('folds the host part, keeping the user as written', () => folds(['alice@web1', 'alice@web2', 'alice@web3'], 'alice@web[1-3]'))
  it('never folds digits of the user part', () => folds(['u1@web1', 'u2@web1'], 'u1@web1,u2@web1'))
  it('keeps a port and a user with an @ in it', () => folds(['me@corp@db1:2222', 'me@corp@db2:2222'], 'me@corp@db[1-2]:2222'))
  it('keeps different users apart', () => folds(['alice@web1', 'bob@web2', 'alice@web2'], 'alice@web[1-2],bob@web2'))
})
