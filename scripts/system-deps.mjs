// Installs the Debian packages the tests use (openssh-server for real sshd fixtures,
// putty-tools for PuTTY keys, posh to run the upload script in a shell without bash extensions,
// dropbear-bin for a real Dropbear, ansible-core to check the inventory parser against) when they
// are missing and we may: as root with apt-get. Otherwise says what is missing; the suites that
// need it then skip loudly (never in CI). ansible-core comes without its Recommends (the `ansible`
// collections, about 250 MB): the tests use only ansible-core's own inventory plugins.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const needs = [
  { bin: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { bin: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { bin: '/usr/bin/puttygen', pkg: 'putty-tools' },
  { bin: '/usr/bin/posh', pkg: 'posh' },
  { bin: '/usr/sbin/dropbear', pkg: 'dropbear-bin' },
  { bin: '/usr/bin/ansible-inventory', pkg: 'ansible-core', bare: true },
]
const absent = needs.filter((n) => !existsSync(n.bin))
const missing = absent.map((n) => n.pkg)
if (missing.length > 0) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`test setup: installing ${missing.join(', ')} with apt-get`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    const plain = absent.filter((n) => !n.bare).map((n) => n.pkg)
    const bare = absent.filter((n) => n.bare).map((n) => n.pkg)
    if (plain.length > 0) execFileSync('apt-get', ['install', '-y', '-qq', ...plain], { stdio: 'inherit', env })
    if (bare.length > 0) execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...bare], { stdio: 'inherit', env })
  } else {
    console.warn(
      `test setup: ${missing.join(', ')} not installed and cannot be installed here (needs root and apt-get); the suites that need them will be skipped`,
    )
  }
}
