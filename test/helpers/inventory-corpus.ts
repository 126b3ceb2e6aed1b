/**
 * Inventory files for the comparisons with ansible-core (test/engine/inventory-ansible.test.ts):
 * the examples of Ansible's inventory guide, children, vars precedence (depth, priority, name),
 * and the patterns asked of each (`:&`, `:!`, `,`, wildcards, regex, subscripts, misses).
 */
export interface CorpusFile {
  name: string
  /** File name extension: ansible-core picks its parser by content, ours too. */
  ext: 'ini' | 'yml'
  text: string
  patterns: string[]
}

export const COMMON = ['all', '*', 'ungrouped', 'nosuch', 'nosuch,all', '!nosuch', 'al*', '~.*', '~', '*[0]', 'all[-1]', 'all[1:]', 'all[99]']

export const CORPUS: CorpusFile[] = [
  {
    name: 'guide-basic',
    ext: 'ini',
    text: `mail.example.com

[webservers]
foo.example.com
bar.example.com

[dbservers]
one.example.com
two.example.com
three.example.com
`,
    patterns: [
      ...COMMON,
      'webservers',
      'webservers:dbservers',
      'dbservers,webservers',
      'webservers:&dbservers',
      '*.example.com',
      '~(one|two)',
      'web*',
      'mail.example.com',
    ],
  },
  {
    name: 'guide-children',
    ext: 'yml',
    text: `ungrouped:
  hosts:
    mail.example.com:
webservers:
  hosts:
    foo.example.com:
    bar.example.com:
dbservers:
  hosts:
    one.example.com:
    two.example.com:
    three.example.com:
east:
  hosts:
    foo.example.com:
    one.example.com:
    two.example.com:
west:
  hosts:
    bar.example.com:
    three.example.com:
prod:
  children:
    east:
test:
  children:
    west:
`,
    patterns: [
      ...COMMON,
      'prod',
      'test',
      'prod:test',
      'webservers:&prod',
      'webservers:!prod',
      '!east:dbservers',
      '&east',
      '!west',
      'east,west,!foo.example.com',
      '~[ow]',
      'prod[1:2]',
      'p*:&~.*o',
    ],
  },
  {
    name: 'guide-vars-ini',
    ext: 'ini',
    text: `[atlanta]
host1 http_port=80 maxRequestsPerChild=808
host2 http_port=303 maxRequestsPerChild=909

[raleigh]
host2
host3

[southeast:children]
atlanta
raleigh

[southeast:vars]
some_server=foo.southeast.example.com
halon_system_timeout=30
self_destruct_countdown=60
escape_pods=2

[usa:children]
southeast
northeast
southwest
northwest

[northeast]
host4
[southwest]
[northwest]
host5
[atlanta:vars]
ntp_server=ntp.atlanta.example.com
proxy=proxy.atlanta.example.com
escape_pods=3
`,
    patterns: [...COMMON, 'usa', 'southeast', 'atlanta:raleigh', 'usa:!southeast', 'usa:&raleigh', 'host*', 'host[2:3]', '~host[13]', 'north*', 'southwest'],
  },
  {
    name: 'precedence-depth-priority-name',
    ext: 'ini',
    text: `[all:vars]
v=all
only_all=yes

[alpha]
h1
h2 v=host

[beta]
h1
h3

[zeta]
h1
h3

[parent:children]
alpha

[parent:vars]
v=parent
p=parent

[alpha:vars]
v=alpha
q=alpha

[beta:vars]
q=beta
n=beta
ansible_group_priority=7

[zeta:vars]
n=zeta
q=zeta
m=zeta

[gamma]
h1
h3

[gamma:vars]
m=gamma
n=gamma
`,
    patterns: [...COMMON, 'parent', 'alpha:beta:zeta', 'beta:&zeta', 'zeta:!beta', '~[ab]', 'h[13]', '?eta'],
  },
  {
    name: 'precedence-yaml-deep',
    ext: 'yml',
    text: `all:
  vars:
    role: none
    cfg: {a: 1, b: 2}
  hosts:
    bastion:
      ansible_port: 2200
    web-us-1:
  children:
    prod:
      vars:
        role: prod
        tier: 1
      children:
        eu:
          vars:
            region: eu
            ansible_group_priority: 3
          children:
            eu_web:
              hosts:
                web-eu-1:
                web-eu-2:
                  role: special
              vars:
                role: web
                cfg: {a: 9}
        us:
          vars:
            region: us
          hosts:
            web-us-1:
    canary:
      hosts:
        web-eu-2:
        web-us-1:
      vars:
        role: canary
        region: canary
        ansible_group_priority: 10
`,
    patterns: [...COMMON, 'prod', 'canary:prod', 'prod:!canary', 'eu*', '~web-(eu|us)-1', 'web-??-1', 'prod:&canary', 'bastion', 'canary[0]', 'prod[-1]'],
  },
  {
    // leaf is at depth 2 through side and at depth 3 through top/mid: the longest path counts,
    // so it beats two (depth 2), which would win on its name at equal depth.
    name: 'depth-longest-path',
    ext: 'ini',
    text: `[leaf]
h
[leaf:vars]
v=leaf
[one:children]
two
[two]
h
[two:vars]
v=two
[mid:children]
leaf
[top:children]
mid
[side:children]
leaf
`,
    patterns: [...COMMON, 'top', 'side:top', 'one:&top'],
  },
  {
    name: 'ranges-and-ports',
    ext: 'ini',
    text: `[web]
www[01:05].example.com
www[08:10:2].example.com

[db]
db-[a:c].example.com ansible_user=dba
10.0.0.[1:3]

[lb]
lb1:2222
lb2 ansible_port=2223

[edge:children]
lb
`,
    patterns: [
      ...COMMON,
      'web[0:2]',
      'web[1-2]',
      'www0[1-3].example.com',
      '~www0[135]',
      'db:lb',
      '10.0.0.*',
      '~10\\.0\\.0\\.[12]',
      'edge',
      'web:db:&~.*c',
      'db-?.example.com',
    ],
  },
  {
    name: 'names-shared-by-host-and-group',
    ext: 'ini',
    text: `[web]
w1
w2

[x]
web
a.b

[a.b]
d1
`,
    patterns: [...COMMON, 'web', 'all:&web', 'all:!web', 'x:&web', 'a.b', 'all:&a.b', 'w*', '~web'],
  },
  {
    // Two top-level groups both with child groups of new hosts: ansible-core's order of the
    // second level depends on Python set iteration; only the order's possible forms are fixed.
    name: 'ambiguous-second-level',
    ext: 'yml',
    text: `all:
  hosts:
    top1:
  children:
    prod:
      children:
        web:
          hosts: {w1: , w2: }
        db:
          hosts: {d1: }
    stage:
      children:
        sweb:
          hosts: {s1: }
        sdb:
          hosts: {s2: }
`,
    patterns: [...COMMON, 'prod', 'stage:prod', '*db', '~s'],
  },
]
