/**
 * The fleet lock's remote side: one POSIX sh script (Debian's dash, posh), run by the lock host's
 * login shell as `/bin/sh -c SCRIPT`, with the operation and its values as positional parameters.
 *
 * Layout under the lock user's home, in `~/.ssh-fanout/locks/`:
 *   NAME/             the lock (a directory): it exists exactly while someone holds it
 *   NAME/record.json  who holds it (the JSON record the action wrote)
 *   NAME/run          the holding run's key (repository/run id/attempt): jobs with the same key join
 *   NAME/id           a random id of this taking of the lock (a takeover checks it is still the one it judged stale)
 *   NAME/holder.TOKEN one empty file per job holding it (TOKEN: the job's random token)
 *   .NAME.guard       a directory made with `mkdir` (atomic) around every operation on NAME
 *
 * Why a guard: join and release race. A release that sees no holder left and removes the
 * directory would delete a holder file a concurrent join wrote in between (the join lost: its
 * job runs without the lock). With the guard, take, join, takeover and release on one lock run
 * one at a time: each is a few file operations (milliseconds). The lock directory is built under
 * a temporary name and renamed into place (while NAME is absent, under the guard), so a reader
 * never sees a lock without its record. A guard left by a shell that died inside it (the trap
 * removes it on exit and on HUP/INT/TERM; only SIGKILL or a crash leaves it) is broken after 30
 * one-second waits: the operations it guards take milliseconds.
 *
 * Prints one marker line with the outcome (see remote-exec.ts's marker protocol):
 *   taken | joined | held ID (then record.json on stdout) | released | left (other holders remain) |
 *   notheld (our holder file is not there: the lock is gone or was taken over) | error WHAT
 */
import { shellQuote } from '../targets/env.js'
import type { Marker } from '../ssh/remote-exec.js'

export const LOCK_SCRIPT = `set -u
op=$1 name=$2 key=$3 token=$4 record=$5 old=$6 m1=$7 m2=$8
umask 077
base="$HOME/.ssh-fanout/locks"
d="$base/$name"
g="$base/.$name.guard"
say() { printf '\\n%s%s %s\\n' "$m1" "$m2" "$*"; }
held() { say held "$(cat "$d/id" 2>/dev/null)"; cat "$d/record.json" 2>/dev/null; }
mkdir -p "$base" 2>/dev/null || { say error cannot create "$base"; exit 0; }
n=0
until mkdir "$g" 2>/dev/null; do
  n=$((n + 1))
  if [ $n -ge 30 ]; then rmdir "$g" 2>/dev/null; n=0; fi
  sleep 1
done
trap 'rmdir "$g" 2>/dev/null' EXIT
trap 'exit 1' HUP INT TERM
create() {
  t="$base/.$name.new.$token"
  rm -rf "$t" && mkdir "$t" &&
    printf '%s\\n' "$record" > "$t/record.json" && printf '%s\\n' "$key" > "$t/run" &&
    printf '%s\\n' "$token" > "$t/id" && : > "$t/holder.$token" && mv "$t" "$d" ||
    { rm -rf "$t"; say error cannot create "$d"; exit 0; }
}
case $op in
take)
  if [ ! -d "$d" ]; then create && say taken
  elif [ "$(cat "$d/run" 2>/dev/null)" = "$key" ]; then
    if : > "$d/holder.$token"; then say joined; else say error cannot write "$d/holder.$token"; fi
  else held
  fi ;;
takeover)
  if [ -d "$d" ] && [ "$(cat "$d/id" 2>/dev/null)" != "$old" ]; then held
  else rm -rf "$d" && create && say taken
  fi ;;
release)
  if [ ! -e "$d/holder.$token" ]; then say notheld
  else
    rm -f "$d/holder.$token"
    if ls "$d" | grep '^holder\\.' >/dev/null; then say left
    elif rm -rf "$d"; then say released
    else say error cannot remove "$d"
    fi
  fi ;;
esac
exit 0
`

export type LockOp = 'take' | 'takeover' | 'release'

export interface LockArgs {
  name: string
  /** The run's key: jobs with the same key share the lock. */
  key: string
  token: string
  /** The holder record (JSON), for take and takeover. */
  record: string
  /** For takeover: the id of the lock judged stale. */
  oldId: string
}

/** The command for one operation. Every value is shell-quoted; the name is checked by the action (no `/`). */
export function lockCommand(op: LockOp, a: LockArgs, marker: Marker): string {
  const args = [op, a.name, a.key, a.token, a.record, a.oldId].map(shellQuote).join(' ')
  return `/bin/sh -c ${shellQuote(LOCK_SCRIPT)} ssh-fanout-lock ${args} ${marker.words}`
}

/** The manual removal, for messages: the `ssh` command that removes the lock on its host. */
export function removalCommand(name: string, host: { host: string; port: number; username: string }): string {
  const at = host.host.includes(':') ? `[${host.host}]` : host.host
  return `ssh ${host.port === 22 ? '' : `-p ${host.port} `}${host.username}@${at} 'rm -rf ~/.ssh-fanout/locks/${name}'`
}
