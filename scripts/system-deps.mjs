// Installs the Debian packages the tests use (openssh-server for real sshd fixtures,
// putty-tools for PuTTY keys, posh to run the upload script in a shell without bash extensions,
// dropbear-bin for a real Dropbear, ansible-core to compare inventories with real Ansible) when they are missing and we may: as root with apt-get.
// Otherwise says what is missing; the suites that need it then skip loudly (never in CI).
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const needs = [
  { bin: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { bin: '/usr/bin/ssh-keygen', pkg: 'openssh-client' },
  { bin: '/usr/bin/puttygen', pkg: 'putty-tools' },
  { bin: '/usr/bin/posh', pkg: 'posh' },
  { bin: '/usr/sbin/dropbear', pkg: 'dropbear-bin' },
  { bin: '/usr/bin/ansible-inventory', pkg: 'ansible-core' },
]
const missing = needs.filter((n) => !existsSync(n.bin)).map((n) => n.pkg)
if (missing.length > 0) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.log(`test setup: installing ${missing.join(', ')} with apt-get`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env })
  } else {
    console.warn(
      `test setup: ${missing.join(', ')} not installed and cannot be installed here (needs root and apt-get); the suites that need them will be skipped`,
    )
  }
}
