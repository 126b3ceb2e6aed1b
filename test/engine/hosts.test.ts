import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { expandRanges, hostLabel, MAX_HOSTS, parseHosts, resolveTargets, type HostEntry } from '../../src/engine/targets/hosts.js'

/** Asserts that `fn` throws an Error whose message contains every fragment. */
function throwsWith(fn: () => unknown, ...fragments: string[]): string {
  let message: string | undefined
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof Error)
    message = err.message
    return true
  })
  for (const fragment of fragments) {
    assert.ok(message!.includes(fragment), `expected ${JSON.stringify(message)} to include ${JSON.stringify(fragment)}`)
  }
  assert.doesNotMatch(message!, /\n\s+at /, 'no stack-trace-like text')
  assert.doesNotMatch(message!, /^hosts:|input/i, 'the caller names the input, not us')
  return message!
}

const names = (text: string): string[] => parseHosts(text).map((e) => e.host)

describe('parseHosts: separators and comments', () => {
  it('splits on newlines, commas and spaces in any mix', () => {
    assert.deepEqual(names('a\nb,c d\te , f\n\n  g  '), ['a', 'b', 'c', 'd', 'e', 'f', 'g'])
  })

  it('handles CRLF line endings', () => {
    assert.deepEqual(names('a\r\nb\r\n'), ['a', 'b'])
  })

  it('drops # comments to the end of the line', () => {
    assert.deepEqual(names('# fleet\nweb1 # primary\nweb2#no space\n  # indented comment\nweb3'), ['web1', 'web2', 'web3'])
  })

  it('returns plain entries without undefined keys', () => {
    assert.deepEqual(parseHosts('web1'), [{ host: 'web1' }])
  })

  it('rejects an empty list', () => {
    throwsWith(() => parseHosts(''), 'no hosts given')
    throwsWith(() => parseHosts('  \n , \n# only a comment\n'), 'no hosts given', 'separated by commas or spaces')
  })
})

describe('parseHosts: user and port', () => {
  it('parses [user@]host[:port]', () => {
    assert.deepEqual(parseHosts('deploy@web1.example.com:2222, web2:22, root@10.0.0.1, my_host-1.x'), [
      { host: 'web1.example.com', port: 2222, username: 'deploy' },
      { host: 'web2', port: 22 },
      { host: '10.0.0.1', username: 'root' },
      { host: 'my_host-1.x' },
    ])
  })

  it('accepts ports 1 and 65535', () => {
    assert.deepEqual(parseHosts('a:1 b:65535'), [
      { host: 'a', port: 1 },
      { host: 'b', port: 65535 },
    ])
  })

  it('rejects port 0 and 70000 with the accepted range', () => {
    throwsWith(() => parseHosts('web1:0'), 'entry "web1:0" on line 1', 'port 0', '1 to 65535')
    throwsWith(() => parseHosts('ok\nweb1:70000'), 'entry "web1:70000" on line 2', 'port 70000', '1 to 65535')
  })

  it('rejects a non-numeric or missing port', () => {
    throwsWith(() => parseHosts('web1:ssh'), 'entry "web1:ssh"', 'port "ssh" is not a number', '1 to 65535')
    throwsWith(() => parseHosts('web1:'), 'entry "web1:"', "port after ':' is missing", '1 to 65535')
    throwsWith(() => parseHosts('web1:-1'), 'port "-1" is not a number')
  })

  it("splits at the last '@' as ssh does: user@domain@host and DOMAIN\\user@host", () => {
    assert.deepEqual(parseHosts('jane@corp.example@web1:2222 CORP\\jane@web2 first.last+ops@[::1]'), [
      { host: 'web1', port: 2222, username: 'jane@corp.example' },
      { host: 'web2', username: 'CORP\\jane' },
      { host: '::1', username: 'first.last+ops' },
    ])
  })

  it('accepts the user names ssh accepts (dé, a$b, a[1]) and only those', () => {
    assert.deepEqual(
      parseHosts('dé@web1 a$b@web2').map((e) => e.username),
      ['dé', 'a$b'],
    )
    for (const [user, what] of [
      ['-root', "starts with '-'"],
      ['a;b', "contains ';'"],
      ['a|b', "contains '|'"],
      ['a`b', "contains '`'"],
      ['a"b', `contains '"'`],
      ['a(b', "contains '('"],
      ['a\u0001b', 'contains the character U+0001'],
      ['dom\\', "ends with '\\'"],
    ]) {
      throwsWith(() => parseHosts(`${user}@web1`), `user name "${user}" ${what}`, "as with ssh, a user name may not start with '-'")
    }
  })

  it('rejects an empty user or host', () => {
    throwsWith(() => parseHosts('@web1'), 'entry "@web1"', "user name before '@' is empty", '[user@]host[:port]')
    throwsWith(() => parseHosts('deploy@'), 'entry "deploy@"', 'host name is missing', '[user@]host[:port]')
    throwsWith(() => parseHosts(':2222'), 'entry ":2222"', 'host name is missing')
  })

  it('rejects invalid characters in host and user names', () => {
    throwsWith(() => parseHosts('web/1'), 'entry "web/1"', `host name "web/1" contains '/'`, "letters, digits, '.', '-' and '_'")
    throwsWith(() => parseHosts('web$1'), `contains '$'`)
    throwsWith(() => parseHosts('web\u00001'), 'contains the character U+0000')
    throwsWith(() => parseHosts('-oProxyCommand=x'), `contains '='`)
    throwsWith(() => parseHosts('-web1'), `host name "-web1" starts with '-'`, "must start with a letter, digit or '_'")
    throwsWith(() => parseHosts('.web1'), `starts with '.'`)
  })

  it('rejects a space inside brackets once expanded', () => {
    throwsWith(() => parseHosts('web[1 x]'), 'entry "web[1 x]"', '"1 x" is not a number')
  })
})

describe('parseHosts: IPv6', () => {
  it('accepts bracketed with and without port, and bare', () => {
    assert.deepEqual(parseHosts('[2001:db8::1]:2222\n[2001:db8::2]\n2001:db8::3\nadmin@[::1]:22\n::ffff:10.0.0.1 fe80::1%eth0'), [
      { host: '2001:db8::1', port: 2222 },
      { host: '2001:db8::2' },
      { host: '2001:db8::3' },
      { host: '::1', port: 22, username: 'admin' },
      { host: '::ffff:10.0.0.1' },
      { host: 'fe80::1%eth0' },
    ])
  })

  it('treats a bare IPv6 with a trailing group as an address, not a port', () => {
    assert.deepEqual(parseHosts('2001:db8::1:2222'), [{ host: '2001:db8::1:2222' }])
  })

  it('rejects invalid IPv6 addresses', () => {
    throwsWith(() => parseHosts('[2001:db8::zz]:22'), 'entry "[2001:db8::zz]:22"', '"2001:db8::zz" is not a valid IPv6 address', '[2001:db8::1]:2222')
    const typo = throwsWith(() => parseHosts('2001:db8:::1'), 'not a valid IPv6 address')
    assert.ok(!typo.includes('ranges'))
    throwsWith(() => parseHosts('2001:db8::[1-3]'), 'ranges are not supported in IPv6')
  })

  it('rejects junk after the closing bracket and unclosed brackets', () => {
    throwsWith(() => parseHosts('[::1]x'), 'entry "[::1]x"', `unexpected "x" after ']'`)
    throwsWith(() => parseHosts('[::1:22'), "'[' has no matching ']'")
  })

  it('rejects bad IPv6 ports', () => {
    throwsWith(() => parseHosts('[::1]:0'), 'port 0', '1 to 65535')
  })
})

describe('expandRanges', () => {
  it('returns a pattern without brackets unchanged', () => {
    assert.deepEqual(expandRanges('web1.example.com'), ['web1.example.com'])
    assert.deepEqual(expandRanges(''), [''])
  })

  it('keeps zero padding from the start', () => {
    assert.deepEqual(expandRanges('web[01-12].x'), [
      'web01.x',
      'web02.x',
      'web03.x',
      'web04.x',
      'web05.x',
      'web06.x',
      'web07.x',
      'web08.x',
      'web09.x',
      'web10.x',
      'web11.x',
      'web12.x',
    ])
    assert.deepEqual(expandRanges('n[098-101]'), ['n098', 'n099', 'n100', 'n101'])
    assert.deepEqual(expandRanges('n[8-11]'), ['n8', 'n9', 'n10', 'n11'])
    assert.deepEqual(expandRanges('n[0-2]'), ['n0', 'n1', 'n2'])
  })

  it('expands comma lists of numbers and ranges', () => {
    assert.deepEqual(expandRanges('10.0.0.[1-3,7]'), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.7'])
    assert.deepEqual(expandRanges('h[5]'), ['h5'])
    assert.deepEqual(expandRanges('h[1, 3]'), ['h1', 'h3'])
  })

  it('multiplies several ranges, leftmost slowest', () => {
    assert.deepEqual(expandRanges('r[1-2]n[1-3]'), ['r1n1', 'r1n2', 'r1n3', 'r2n1', 'r2n2', 'r2n3'])
    assert.deepEqual(expandRanges('[1-2].[9]'), ['1.9', '2.9'])
  })

  it('leaves IPv6 literal brackets alone', () => {
    assert.deepEqual(expandRanges('[2001:db8::1]'), ['[2001:db8::1]'])
  })

  it('rejects backwards ranges with the fix', () => {
    throwsWith(() => expandRanges('web[3-1]'), 'range [3-1] goes backwards; write [1-3]')
    throwsWith(() => expandRanges('web[1,5-2]'), 'range 5-2 in [1,5-2] goes backwards; write 2-5')
  })

  it('rejects malformed brackets', () => {
    throwsWith(() => expandRanges('web[]'), 'empty brackets', '[1-3]')
    throwsWith(() => expandRanges('web[a-c]'), '[a-c] is not a range', '"a-c"', '[1-3,7]')
    throwsWith(() => expandRanges('web[1-]'), '"1-" is not a number')
    throwsWith(() => expandRanges('web[1,,3]'), '"" is not a number')
    throwsWith(() => expandRanges('web[1-3'), "'[' has no matching ']'")
    throwsWith(() => expandRanges('web]1'), "']' has no matching '['")
    throwsWith(() => expandRanges('web[1-[2]]'), 'is not a range')
    throwsWith(() => expandRanges('web[99999999999999999999]'), 'too large')
  })

  it('guards against huge expansions before building them', () => {
    assert.equal(MAX_HOSTS, 5000)
    assert.equal(expandRanges('h[1-5000]').length, MAX_HOSTS)
    throwsWith(() => expandRanges('h[1-5001]'), 'expands to 5001 hosts', `at most ${MAX_HOSTS}`)
    throwsWith(() => expandRanges('h[1-1000000000000]'), 'expands to 1000000000000 hosts')
    throwsWith(() => expandRanges('[1-100][1-100][1-2]'), 'expands to 20000 hosts')
  })
})

describe('parseHosts: ranges', () => {
  it('expands ranges in entries and keeps user and port on each host', () => {
    assert.deepEqual(parseHosts('ops@web[1-2].x:2200'), [
      { host: 'web1.x', port: 2200, username: 'ops' },
      { host: 'web2.x', port: 2200, username: 'ops' },
    ])
  })

  it('does not split on commas inside brackets', () => {
    assert.deepEqual(names('10.0.0.[1-3,7],db1'), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.7', 'db1'])
  })

  it('prefixes range errors with the entry and line', () => {
    throwsWith(() => parseHosts('ok\nweb[3-1]'), 'entry "web[3-1]" on line 2: range [3-1] goes backwards; write [1-3]')
  })

  it('limits the total across entries', () => {
    assert.equal(parseHosts('a[1-2500] b[1-2500]').length, 5000)
    throwsWith(() => parseHosts('a[1-2500] b[1-2500] c'), `more than ${MAX_HOSTS} hosts in total`, `at most ${MAX_HOSTS}`)
    throwsWith(() => parseHosts('a[1-20000]'), 'entry "a[1-20000]" on line 1', 'expands to 20000 hosts')
  })
})

describe('parseHosts: zero-padded IPv4 numbers', () => {
  it('rejects them, naming the entry and the unpadded address (the resolver would read 010 as octal 8)', () => {
    throwsWith(
      () => parseHosts('web1\n10.0.0.010'),
      'entry "10.0.0.010" on line 2',
      'IPv4 address "10.0.0.010" has the zero-padded number "010"',
      'reads as octal',
      'write IPv4 numbers without leading zeros: 10.0.0.10',
    )
    throwsWith(() => parseHosts('deploy@010.0.0.1:2222'), 'has the zero-padded number "010"', ': 10.0.0.1')
    throwsWith(() => parseHosts('10.0.0.1 10.0.0.01'), 'entry "10.0.0.01"', 'zero-padded number "01"')
  })

  it('rejects a zero-padded IPv4 range, saying how to write it', () => {
    throwsWith(() => parseHosts('10.0.0.[01-10]'), 'entry "10.0.0.[01-10]" on line 1', 'IPv4 address "10.0.0.01"', 'write [1-10], not [01-10]')
    throwsWith(() => parseHosts('10.0.[00-1].5'), 'zero-padded number "00"')
  })

  it('keeps zero-padded ranges in host names, and unpadded IPv4 (0 included)', () => {
    assert.deepEqual(names('web[01-02].example.com 10.0.0.[0-1] 10.0.0.100 0.0.0.0 db-010'), [
      'web01.example.com',
      'web02.example.com',
      '10.0.0.0',
      '10.0.0.1',
      '10.0.0.100',
      '0.0.0.0',
      'db-010',
    ])
  })
})

describe('parseHosts: long entries are quoted short in errors', () => {
  it('an oversized entry is cut to its start and length', () => {
    const huge = 'a'.repeat(1_000_000) + '/'
    const message = throwsWith(() => parseHosts(`ok ${huge}`), `entry "${'a'.repeat(40)}…" (1000001 characters) on line 1`, 'host name "aaaa', "contains '/'")
    assert.ok(message.length < 400, `message is ${message.length} characters`)
  })

  it('every quoted piece is short: ports, IPv6, ranges, user names, duplicates', () => {
    const long = '9'.repeat(10_000)
    for (const text of [
      `web1:${long}`,
      `web1:x${long}`,
      `[::1]:${long}`,
      `[::1]x${long}`,
      `${long}:${long}::zz`,
      `web[${long}-1]`,
      `web[1,x${long}]`,
      `-${long}@web1`,
      `a${long}b a${long}b`,
    ]) {
      const message = throwsWith(() => parseHosts(text))
      assert.ok(message.length < 400, `${message.length} characters for ${text.slice(0, 20)}…: ${message.slice(0, 400)}`)
    }
  })
})

describe('parseHosts: duplicates', () => {
  it('rejects the same host twice, naming both entries', () => {
    throwsWith(() => parseHosts('web[1-3]\nweb2'), 'entry "web2" on line 2', 'web2 is already listed by entry "web[1-3]" on line 1', 'list each host once')
  })

  it('rejects duplicates within one entry', () => {
    throwsWith(() => parseHosts('web[1,1]'), 'web1 is listed twice by this entry')
  })

  it('compares host names case-insensitively and IPv6 canonically', () => {
    throwsWith(() => parseHosts('Web1 web1'), 'web1 is already listed')
    throwsWith(() => parseHosts('[2001:DB8:0::1]:2222 [2001:db8::1]:2222'), '[2001:db8::1]:2222 is already listed')
  })

  it('allows the same host with different users or ports', () => {
    assert.equal(parseHosts('a@web1 b@web1 web1:2222 web1').length, 4)
  })
})

describe('hostLabel', () => {
  it('omits port 22 and brackets IPv6 with a port', () => {
    assert.equal(hostLabel('web1', 22), 'web1')
    assert.equal(hostLabel('web1', 2222), 'web1:2222')
    assert.equal(hostLabel('::1', 22), '::1')
    assert.equal(hostLabel('::1', 2222), '[::1]:2222')
  })
})

describe('resolveTargets', () => {
  const defaults = { username: 'deploy', port: 22 }

  it('applies default user and port and builds labels', () => {
    const entries: HostEntry[] = [{ host: 'web1' }, { host: 'web2', port: 2222, username: 'root' }, { host: '::1', port: 2200 }]
    assert.deepEqual(resolveTargets(entries, defaults), [
      { host: 'web1', port: 22, username: 'deploy', label: 'web1' },
      { host: 'web2', port: 2222, username: 'root', label: 'web2:2222' },
      { host: '::1', port: 2200, username: 'deploy', label: '[::1]:2200' },
    ])
  })

  it('uses a non-22 default port in labels', () => {
    assert.equal(resolveTargets([{ host: 'web1' }], { username: 'u', port: 2022 })[0].label, 'web1:2022')
  })

  it('keeps explicit users when there is no default', () => {
    assert.equal(resolveTargets([{ host: 'web1', username: 'a' }], { username: '', port: 22 })[0].username, 'a')
  })

  it('rejects hosts without a username, listing up to 5', () => {
    throwsWith(() => resolveTargets([{ host: 'web1' }], { username: '', port: 22 }), 'no username for web1;', 'give user@host or set the username')
    const many = parseHosts('web[1-8] ok@db1')
    const message = throwsWith(
      () => resolveTargets(many, { username: '', port: 22 }),
      'no username for 8 hosts: web1, web2, web3, web4, web5 and 3 more',
      'user@host',
    )
    assert.ok(!message.includes('web6'))
    assert.ok(!message.includes('db1'))
  })

  it('rejects entries that become the same target once defaults apply', () => {
    throwsWith(() => resolveTargets(parseHosts('web1 web1:22'), defaults), 'deploy@web1 appears twice', 'list each host once')
    throwsWith(() => resolveTargets(parseHosts('web1 deploy@web1'), defaults), 'deploy@web1 appears twice')
    throwsWith(() => resolveTargets(parseHosts('WEB1:2222 web1'), { username: 'deploy', port: 2222 }), 'deploy@web1:2222 appears twice')
  })
})

describe('resolveTargets: several users on one host', () => {
  const defaults = { username: 'deploy', port: 22 }
  const labels = (text: string, d = defaults) => resolveTargets(parseHosts(text), d).map((t) => t.label)

  it('labels user@host when host and port repeat, and only those', () => {
    assert.deepEqual(labels('alice@web1 bob@web1 web2 carol@web1:2222'), ['alice@web1', 'bob@web1', 'web2', 'web1:2222'])
    assert.deepEqual(labels('alice@web1:2222 bob@web1:2222'), ['alice@web1:2222', 'bob@web1:2222'])
  })

  it('compares hosts as duplicates do: case-insensitively, IPv6 in canonical form, after the default user and port', () => {
    assert.deepEqual(labels('alice@WEB1 web1'), ['alice@WEB1', 'deploy@web1'])
    assert.deepEqual(labels('alice@[2001:db8::1]:2222 bob@[2001:db8:0::1]:2222'), ['alice@[2001:db8::1]:2222', 'bob@[2001:db8:0::1]:2222'])
    assert.deepEqual(labels('alice@web1 bob@web1:2200', { username: 'deploy', port: 2200 }), ['alice@web1:2200', 'bob@web1:2200'])
  })

  it('keeps every label unique', () => {
    const all = labels('a@h b@h h:2 a@h:2 a@g b@g:22 c@g:23')
    assert.equal(new Set(all).size, all.length, all.join(' '))
  })

  it('a duplicate is still named once by its user', () => {
    throwsWith(() => resolveTargets(parseHosts('alice@web1 bob@web1 alice@web1:22'), defaults), 'alice@web1 appears twice')
  })
})
