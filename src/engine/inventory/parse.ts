/**
 * An Ansible inventory, YAML or INI, told apart by its content (the action passes text; no file name).
 *
 * The rule (ansible-core, given a file without an extension, tries its YAML plugin, then its INI one;
 * this decides the same way where that works and by what the text looks like where it does not):
 * - it parses as one YAML document whose top level is a mapping and every top-level value is a
 *   mapping or empty (groups): YAML;
 * - it parses as YAML but is not a mapping (a plain line like `web1 ansible_port=2222` is YAML text,
 *   `[web]` alone a YAML list; an empty or comment-only text is YAML null): INI;
 * - a mapping with some other top-level value: INI if it reads as INI (`web1 note="a: b"` is also a
 *   YAML mapping), else YAML (whose reader skips non-groups into `ignored`, or says what is wrong;
 *   `plugin: aws_ec2` is refused there);
 * - not YAML at all (INI sections followed by hosts never are): INI, unless INI fails too; then the INI
 *   error if a line starts with `[` at the left margin (`[web]`; in YAML that would be a list at the
 *   top), else the error of the reading that got further (on a tie the YAML one, with line and column).
 */
import { isMap } from 'yaml'
import { IniError, parseIni } from './ini.js'
import type { Inventory } from './types.js'
import { parseYaml } from './yaml.js'
import { Nodes, readYaml, YamlSyntaxError, type YamlText } from './yaml-nodes.js'

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
  const groups = root.items.every((pair) => {
    const value = nodes.resolve(pair.value, '')
    return value === null || isMap(value)
  })
  if (groups) return parseYaml(yaml, source)
  try {
    return parseIni(body, source)
  } catch (err) {
    if (err instanceof IniError) return parseYaml(yaml, source)
    throw err
  }
}

/** Not YAML: INI, or when that fails too, the error of the reading that got further. */
function iniElse(body: string, source: string, yamlError: YamlSyntaxError): Inventory {
  try {
    return parseIni(body, source)
  } catch (err) {
    if (!(err instanceof IniError)) throw err
    // A YAML inventory has no line starting with `[` at the left margin (that would be a list at the
    // top, like an INI section header); otherwise the reading that failed later was the meant one.
    if (/^\[/m.test(body) || err.line > yamlError.line) throw err
    throw yamlError
  }
}
