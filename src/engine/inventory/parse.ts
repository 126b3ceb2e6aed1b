/**
 * An Ansible inventory, YAML or INI, told apart by its content (the action passes text; no file name).
 * ansible-core, given a file without an extension, tries its YAML plugin, then its INI one; that alone
 * would read a mistyped INI line like `web1 a: b` as a YAML inventory of nothing. So:
 *
 * - YAML when it parses as one YAML document whose top level is a mapping and it starts like a YAML
 *   inventory: its first line that is not a comment is `---`, a `%` directive, a flow mapping `{`, or
 *   a key without spaces followed by `:` (`all:`, `web: {…}`, `"db":`). `plugin: aws_ec2` is then
 *   refused, and top-level keys that are not groups go to `ignored`, as ansible-core skips them.
 * - Any other YAML mapping (`web1 note="a: b"` is one): INI if it reads as INI; else YAML if every
 *   top-level value is a group mapping and one has content (`my group:\n  hosts: …`); else the INI error.
 * - YAML that is not a mapping (`web1 ansible_port=2222` is a YAML string, `[web]` alone a list, an
 *   empty or comment-only text null): INI.
 * - Not YAML at all (INI sections followed by hosts never are): INI. When INI fails too: the INI error
 *   if a line starts with `[` at the left margin (in YAML that would be a list at the top), else the
 *   error of the reading that failed on a later line; on the same line, the YAML one (with line and
 *   column) if the text starts like YAML, else the INI one.
 */
import { isMap } from 'yaml'
import { IniError, parseIni } from './ini.js'
import type { Inventory } from './types.js'
import { parseYaml } from './yaml.js'
import { Nodes, readYaml, YamlSyntaxError, type YamlText } from './yaml-nodes.js'

const YAML_START = /^(?:---(?:\s|$)|%|\{|(?:[^\s:#=[\]{}'"]+|"[^"]*"|'[^']*')\s*:(?:\s|$))/

export function parseInventory(text: string, source: string): Inventory {
  const body = text.replace(/^\ufeff/, '') // a byte order mark, which some editors write
  let yaml: YamlText
  try {
    yaml = readYaml(body, source)
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err
    return iniElse(body, source, err)
  }
  const nodes = new Nodes(yaml, source)
  const root = nodes.resolve(yaml.doc.contents, '')
  if (!isMap(root)) return parseIni(body, source)
  if (startsLikeYaml(body)) return parseYaml(yaml, source)
  try {
    return parseIni(body, source)
  } catch (err) {
    if (!(err instanceof IniError)) throw err
    const values = root.items.map((pair) => nodes.resolve(pair.value, ''))
    if (values.every((v) => v === null || isMap(v)) && values.some((v) => isMap(v) && v.items.length > 0)) return parseYaml(yaml, source)
    throw err
  }
}

/** Not YAML: INI, or when that fails too, the error of the reading that got further. */
function iniElse(body: string, source: string, yamlError: YamlSyntaxError): Inventory {
  try {
    return parseIni(body, source)
  } catch (err) {
    if (!(err instanceof IniError)) throw err
    if (/^\[/m.test(body) || err.line > yamlError.line) throw err
    if (err.line === yamlError.line && !startsLikeYaml(body)) throw err
    throw yamlError
  }
}

function startsLikeYaml(body: string): boolean {
  const first = body.split(/\r\n|[\n\r]/).find((line) => line.trim() !== '' && !/^\s*[#;]/.test(line)) ?? ''
  return YAML_START.test(first.trim())
}
