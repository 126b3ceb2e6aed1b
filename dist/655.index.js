export const id = 655;
export const ids = [655];
export const modules = {

/***/ 2655:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  readInventory: () => (/* binding */ readInventory)
});

// EXTERNAL MODULE: external "node:os"
var external_node_os_ = __webpack_require__(8161);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
// EXTERNAL MODULE: ./lib/engine/parse.js
var parse = __webpack_require__(3773);
;// CONCATENATED MODULE: ./lib/engine/inventory/addresses.js
/**
 * ansible-core's address parsing (lib/ansible/parsing/utils/addresses.py, parse_address with
 * ranges allowed): a host name, an IPv4 or IPv6 address, with `[x:y]` ranges and an optional
 * `:port`. Used for inventory host entries (address.ts) and host patterns (split.ts).
 */
// Python's `$` (no MULTILINE) also matches before a final newline.
const END = '(?=\\n?(?![^]))';
const numericRange = '\\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\\]';
const hexRange = '\\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\\]';
const alnumRange = '\\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\\]';
const v6 = `(?:[0-9a-f]{1,4}|${hexRange})`;
const v4 = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${numericRange})`;
const label = `(?:[\\p{L}\\p{N}_]|${alnumRange})(?:[\\p{L}\\p{N}_-]|${alnumRange})*(?<![_-])`;
const BRACKETED_HOSTPORT = new RegExp(`^\\[([^\\n]+)\\]:([0-9]+)${END}`, 'u');
const HOSTPORT = new RegExp(`^((?:[^:\\[\\]]|\\[[^\\]]*\\])*):([0-9]+)${END}`, 'u');
const IPV4 = new RegExp(`^(?:${v4}\\.){3}${v4}${END}`, 'iu');
const HOSTNAME = new RegExp(`^${label}(?:\\.${label})*${END}`, 'iu');
// As written in addresses.py, `$` binds to the last alternative only: the others need only
// match at the start. Kept so, to cut patterns exactly where Ansible does.
const IPV6 = new RegExp('^(?:' +
    [
        `(?:${v6}:){7}${v6}`,
        `(?:${v6}:){1,6}:`,
        `(?:${v6}:)(?::${v6}){1,6}`,
        `(?:${v6}:){2}(?::${v6}){1,5}`,
        `(?:${v6}:){3}(?::${v6}){1,4}`,
        `(?:${v6}:){4}(?::${v6}){1,3}`,
        `(?:${v6}:){5}(?::${v6}){1,2}`,
        `(?:${v6}:){6}(?::${v6})`,
        `:(?::${v6}){1,6}`,
        `${v6}?::`,
        `(?:0:){6}(?:${v6}\\.){3}${v6}`,
        `::(?:ffff:)?(?:${v6}\\.){3}${v6}`,
        `(?:0:){5}ffff:(?:${v6}\\.){3}${v6}${END}`,
    ].join('|') +
    ')', 'iu');
/** parse_address(text, allow_ranges=True): the host and the port, or null where ansible-core raises. */
function parseAddress(text) {
    let address = text;
    let port;
    // Both port forms are tried in turn, the second on what the first left (as addresses.py does).
    for (const re of [BRACKETED_HOSTPORT, HOSTPORT]) {
        const m = re.exec(address);
        if (m) {
            address = m[1];
            port = Number(m[2]);
        }
    }
    if (![IPV4, IPV6, HOSTNAME].some((re) => re.test(address)))
        return null;
    return port === undefined ? { host: address } : { host: address, port };
}

;// CONCATENATED MODULE: ./lib/engine/inventory/ranges.js
/**
 * Ansible's host ranges, as ansible-core's `expand_hostname_range` expands them: `www[01:50].example.com`
 * (leading zeros pad to the width of the start), `db-[a:f]` (letters, a..z then A..Z), `[01:50:2]` (a step),
 * several ranges in one name (the first varies slowest). Throws a plain Error; the parser adds the position.
 */

const FORMS = 'write a range as [start:end] or [start:end:step], e.g. www[01:50].example.com, db-[a:f], web[1:9:2]';
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Python's int() of a string: optional spaces and sign, digits with single underscores between them. */
const PY_INT = /^\s*[-+]?\d+(?:_\d+)*\s*$/;
/** The names `pattern` stands for; at most `limit` of them. */
function expandHostnameRange(pattern, limit) {
    const out = [];
    expandInto(pattern, pattern, limit, out);
    return out;
}
function expandInto(line, pattern, limit, out) {
    // As ansible-core: the first '[' and the first ']' after replacing it split the name in three.
    const open = line.indexOf('[');
    const close = line.indexOf(']');
    const parts = line.replace('[', '|').replace(']', '|').split('|');
    if (open === -1 || close === -1 || parts.length !== 3) {
        throw new Error(`${(0,parse/* quote */.hD)(pattern)} has a '[' without its ']' (or a '|'); ${FORMS}`);
    }
    const [head, body, tail] = parts;
    const tooMany = () => new Error(`${(0,parse/* quote */.hD)(pattern)} expands to more than ${limit} hosts`);
    for (const value of rangeValues(body, pattern, limit - out.length, tooMany)) {
        const name = head + value + tail;
        if (name.includes('['))
            expandInto(name, pattern, limit, out);
        else
            out.push(name);
        if (out.length > limit)
            throw tooMany();
    }
}
function rangeValues(body, pattern, room, tooMany) {
    const bounds = body.split(':');
    const bad = (why) => new Error(`${(0,parse/* quote */.hD)(pattern)}: range [${body}] ${why}; ${FORMS}`);
    if (bounds.length !== 2 && bounds.length !== 3)
        throw bad('is not start:end or start:end:step');
    const start = bounds[0] === '' ? '0' : bounds[0];
    const end = bounds[1];
    if (end === '')
        throw bad('has no end');
    const step = bounds.length === 3 ? pyInt(bounds[2]) : 1;
    // ansible-core slices or counts with any step Python accepts (0 fails, a negative one runs backwards or gives nothing).
    if (step === null || step < 1)
        throw bad('has a step that is not a whole number of at least 1');
    const width = start.length > 1 && start.startsWith('0') ? start.length : 0;
    if (width > 0 && end.length !== width)
        throw bad(`starts with a leading zero, so its end must have as many digits (${width})`);
    const first = LETTERS.indexOf(start);
    const last = LETTERS.indexOf(end);
    if (first !== -1 && last !== -1) {
        if (first > last)
            throw bad('goes backwards; the start must come first (a..z, then A..Z)');
        return count(first, last, step, room, tooMany).map((i) => pad(LETTERS[i], width));
    }
    const from = pyInt(start);
    const to = pyInt(end);
    if (from === null || to === null)
        throw bad('is neither numbers nor single letters');
    // ansible-core expands a backwards numeric range to no host at all; saying so is kinder.
    if (from > to)
        throw bad('goes backwards; the start must not be greater than the end');
    return count(from, to, step, room, tooMany).map((n) => pad(String(n), width));
}
/** from, from + step, ... up to to; refused before it is built when there would be more than `room`. */
function count(from, to, step, room, tooMany) {
    const n = Math.floor((to - from) / step) + 1;
    if (!Number.isSafeInteger(n) || n > room)
        throw tooMany();
    return Array.from({ length: n }, (_, i) => from + i * step);
}
function pyInt(text) {
    if (!PY_INT.test(text))
        return null;
    const n = Number(text.trim().replace(/_/g, ''));
    return Number.isSafeInteger(n) ? n : null;
}
/** Python's str.zfill: pads with zeros after any sign. */
function pad(text, width) {
    if (text.length >= width)
        return text;
    const sign = text.startsWith('-') || text.startsWith('+') ? text[0] : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
}

;// CONCATENATED MODULE: ./lib/engine/inventory/address.js
/**
 * A host entry of an inventory (`web[01:03].example.com:2222`, `[2001:db8::1]:22`) into its names and port,
 * as ansible-core's `_expand_hostpattern` reads it: `parse_address(allow_ranges=True)` splits off the port
 * when what is left is an IPv4 address, an IPv6 address or a host name (ranges allowed); when it is none
 * of them the entry, port and all, is taken as the name. Then ranges are expanded.
 */


/** The host names and port an inventory host entry stands for; at most `limit` names. Throws a plain Error. */
function expandHostPattern(entry, limit) {
    const parsed = parseAddress(entry);
    const pattern = parsed?.host ?? entry;
    const names = pattern.includes('[') ? expandHostnameRange(pattern, limit) : [pattern];
    return parsed?.port === undefined ? { names } : { names, port: parsed.port };
}

;// CONCATENATED MODULE: ./lib/engine/inventory/types.js
/**
 * An Ansible inventory as ansible-core holds it once parsed (InventoryData after
 * reconcile_inventory): groups and hosts in creation order, each with its own vars. The parsers
 * (INI, YAML) build it; the semantics (host order, vars precedence, group_names, patterns) read it.
 */
/** A mistake in the inventory or the pattern: the message names the line or key path and says what is wrong. */
class InventoryError extends Error {
    constructor(message) {
        super(message);
        this.name = 'InventoryError';
    }
}

;// CONCATENATED MODULE: ./lib/engine/inventory/builder.js
/**
 * The inventory as the parsers fill it, with ansible-core's InventoryData rules (lib/ansible/inventory/
 * data.py, group.py): `all` and `ungrouped` first, a host's `host:port` kept only where the host is first
 * written, a group never its own ancestor, and at the end (reconcile_inventory) every parentless group a
 * child of `all` and every host in no group but `all` in `ungrouped`. Throws BuildError (no position:
 * the parser adds it).
 */

/** Most hosts one inventory may hold (ranges included): far more than a run may target, far less than would hurt. */
const MAX_INVENTORY_HOSTS = 100_000;
class BuildError extends Error {
}
class InventoryBuilder {
    groups = new Map();
    hosts = new Map();
    parents = new Map();
    /** Each host's groups, as written (not their ancestors). */
    memberOf = new Map();
    ignored = [];
    constructor() {
        this.addGroup('all', '');
        this.addGroup('ungrouped', '');
        this.addChild('all', 'ungrouped');
    }
    hasGroup(name) {
        return this.groups.has(name);
    }
    /** Creates the group unless it exists; `all` and `ungrouped` (made before any line is read) take the `where` the file first names them at. */
    addGroup(name, where) {
        if (name === '')
            throw new BuildError('a group name is empty; name the group');
        const group = this.groups.get(name);
        if (group === undefined) {
            this.groups.set(name, { name, hosts: [], children: [], vars: new Map(), where });
            this.parents.set(name, []);
        }
        else if (group.where === '') {
            group.where = where;
        }
    }
    /** `port` counts only where the host is created, as in ansible-core (and 0 not at all). */
    addHost(name, group, port, where) {
        if (name === '')
            throw new BuildError('a host name is empty; write a host name or address');
        if (!this.hosts.has(name)) {
            if (this.hosts.size >= MAX_INVENTORY_HOSTS)
                throw new BuildError(`more than ${MAX_INVENTORY_HOSTS} hosts; at most ${MAX_INVENTORY_HOSTS} are read`);
            const host = { name, vars: new Map(), where };
            if (port !== undefined && port !== 0)
                host.vars.set('ansible_port', { value: port, where });
            this.hosts.set(name, host);
            this.memberOf.set(name, new Set());
        }
        this.addHostTo(this.group(group), name);
    }
    /**
     * A var of the group or host `entity`. As in ansible-core, a group of that name takes it even when a
     * host is meant (a host var of host `web` lands on group `web` when both exist). Last written wins.
     */
    setVar(entity, key, value, where) {
        const target = this.groups.get(entity) ?? this.hosts.get(entity);
        if (target === undefined)
            throw new BuildError(`${entity} is neither a group nor a host`);
        target.vars.set(key, { value, where });
    }
    /** ansible-core's add_child: `child` is a group if one has that name, else a host. */
    addChild(parent, child) {
        const group = this.group(parent);
        if (this.groups.has(child))
            this.addChildGroup(group, child);
        else if (this.hosts.has(child))
            this.addHostTo(group, child);
        else
            throw new BuildError(`${child} is neither a group nor a host`);
    }
    /** reconcile_inventory, then the result; `source` names the file in an error. */
    finish(source) {
        try {
            return this.reconcile(source);
        }
        catch (err) {
            if (err instanceof BuildError)
                throw new InventoryError(`${source}: ${err.message}`);
            throw err;
        }
    }
    reconcile(source) {
        for (const group of this.groups.values()) {
            if (group.name === 'all' || this.parents.get(group.name).length > 0)
                continue;
            if (this.ancestors('all').has(group.name)) {
                const at = group.where === '' ? '' : ` ${group.where}`;
                throw new InventoryError(`${source}${at}: group ${group.name} has no parent, so it becomes a child of all, but all is below it; all cannot be a child`);
            }
            this.addChild('all', group.name);
        }
        const ungrouped = this.group('ungrouped');
        // A host's groups in ansible-core are those it is in and all their ancestors; two questions about them suffice.
        const inUngrouped = this.reaches((g) => g === 'ungrouped');
        const inOther = this.reaches((g) => g !== 'all' && g !== 'ungrouped');
        const regrouped = new Set();
        for (const [host, direct] of this.memberOf) {
            const groups = [...direct];
            if (groups.some(inUngrouped)) {
                // ansible-core drops a host from `ungrouped` once it is in any other group.
                if (direct.has('ungrouped') && groups.some(inOther))
                    regrouped.add(host);
            }
            else if (groups.every((g) => g === 'all')) {
                this.addChild('ungrouped', host);
            }
        }
        ungrouped.hosts = ungrouped.hosts.filter((h) => !regrouped.has(h));
        for (const host of regrouped)
            this.memberOf.get(host).delete('ungrouped');
        return { groups: this.groups, hosts: this.hosts, ignored: this.ignored };
    }
    group(name) {
        const group = this.groups.get(name);
        if (group === undefined)
            throw new BuildError(`${name} is not a group`);
        return group;
    }
    addChildGroup(parent, child) {
        if (parent.name === child)
            throw new BuildError(`group ${child} is listed as its own child`);
        if (parent.children.includes(child))
            return;
        if (this.ancestors(parent.name).has(child)) {
            throw new BuildError(`making ${child} a child of ${parent.name} makes a loop: ${child} is already an ancestor of ${parent.name}`);
        }
        parent.children.push(child);
        this.parents.get(child).push(parent.name);
    }
    addHostTo(group, host) {
        const groups = this.memberOf.get(host);
        if (groups.has(group.name))
            return;
        group.hosts.push(host);
        groups.add(group.name);
    }
    /** Whether a group or one of its ancestors is `wanted`, remembered per group. */
    reaches(wanted) {
        const known = new Map();
        return (group) => {
            const cached = known.get(group);
            if (cached !== undefined)
                return cached;
            const found = wanted(group) || [...this.ancestors(group)].some(wanted);
            known.set(group, found);
            return found;
        };
    }
    ancestors(name) {
        const seen = new Set();
        const todo = [...this.parents.get(name)];
        for (let g = todo.pop(); g !== undefined; g = todo.pop()) {
            if (seen.has(g))
                continue;
            seen.add(g);
            todo.push(...this.parents.get(g));
        }
        return seen;
    }
}

;// CONCATENATED MODULE: ./lib/engine/inventory/py-literal.js
/** The value of `text` as ansible-core's INI parser reads it. */
function parseIniValue(text) {
    if (text.includes('\0'))
        return text; // Python: source code cannot contain null bytes
    try {
        return new LiteralParser(text.replace(/^[ \t]+/, '')).top();
    }
    catch (err) {
        if (err === NOT_A_LITERAL)
            return text;
        throw err;
    }
}
class NotALiteral extends Error {
}
/** One instance, thrown again and again: most INI values are plain text, and a stack trace each time costs. */
const NOT_A_LITERAL = new NotALiteral();
const fail = () => {
    throw NOT_A_LITERAL;
};
// Python's number tokens; a digit, letter, '_' or '.' right after one is a syntax error (or a complex number).
const RADIX_INT = /0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/y;
const DIGITS = String.raw `[0-9](?:_?[0-9])*`;
const FLOAT = new RegExp(String.raw `(?:(?:${DIGITS})?\.${DIGITS}|${DIGITS}\.)(?:[eE][-+]?${DIGITS})?|${DIGITS}[eE][-+]?${DIGITS}`, 'y');
const DEC_INT = new RegExp(DIGITS, 'y');
const NAME = /[\p{L}\p{Nl}_][\p{L}\p{N}\p{Mn}\p{Mc}_]*/uy;
const STRING_PREFIXES = new Set(['', 'r', 'u', 'b', 'br', 'rb']);
const MAX_DEPTH = 200;
/** CPython refuses decimal integer literals longer than this (sys.int_info.default_max_str_digits). */
const MAX_INT_DIGITS = 4300;
class LiteralParser {
    src;
    pos = 0;
    peeked = null;
    constructor(src) {
        this.src = src;
    }
    /** eval mode: one expression, or several separated by commas (a tuple). */
    top() {
        const first = this.value(0);
        if (!this.accept(','))
            return this.end(first);
        const items = [first];
        while (this.peek().kind !== 'end') {
            items.push(this.value(0));
            if (!this.accept(','))
                break;
        }
        return this.end(items);
    }
    end(value) {
        if (this.next().kind !== 'end')
            fail();
        return value;
    }
    /** `depth`: the brackets already open around this value. */
    value(depth) {
        const tok = this.next();
        if (tok.kind === 'number')
            return tok.value;
        if (tok.kind === 'str')
            return this.strings(tok);
        if (tok.kind === 'name')
            return this.name(tok.text);
        if (tok.kind !== 'op')
            return fail();
        if ('([{'.includes(tok.text) && depth >= MAX_DEPTH)
            fail(); // Python: too many nested parentheses
        switch (tok.text) {
            case '-':
            case '+':
                return this.signed(tok.text, depth);
            case '(':
                return this.parens(depth);
            case '[':
                return this.items(']', depth);
            case '{':
                return this.braces(depth);
            default:
                return fail();
        }
    }
    /** `-5`, `+0x10`, `-(1.5)`: a sign applies to one number only (not to `-(-5)` or `-True`). */
    signed(sign, depth) {
        let opened = 0;
        while (this.accept('('))
            if (depth + ++opened > MAX_DEPTH)
                fail();
        const tok = this.next();
        if (tok.kind !== 'number')
            return fail();
        for (; opened > 0; opened--)
            if (!this.accept(')'))
                fail();
        const v = tok.value;
        if (sign === '+')
            return v;
        if (typeof v === 'string')
            return `-${v}`; // a big integer's decimal text
        return tok.int && v === 0 ? 0 : -v; // Python's -0 is 0; -0.0 stays -0.0
    }
    parens(depth) {
        if (this.accept(')'))
            return [];
        const first = this.value(depth + 1);
        if (this.accept(')'))
            return first;
        if (!this.accept(','))
            return fail();
        const items = [first];
        while (!this.accept(')')) {
            items.push(this.value(depth + 1));
            if (!this.accept(',')) {
                if (!this.accept(')'))
                    fail();
                break;
            }
        }
        return items;
    }
    items(close, depth, first) {
        const items = first === undefined ? [] : [first];
        if (first !== undefined && !this.accept(',')) {
            if (!this.accept(close))
                fail();
            return items;
        }
        while (!this.accept(close)) {
            items.push(this.value(depth + 1));
            if (!this.accept(',')) {
                if (!this.accept(close))
                    fail();
                break;
            }
        }
        return items;
    }
    braces(depth) {
        if (this.accept('}'))
            return {};
        const first = this.value(depth + 1);
        if (!this.accept(':'))
            return unique(this.items('}', depth, first)); // a set
        const dict = new Map();
        dict.set(keyText(first), this.value(depth + 1));
        while (this.accept(',')) {
            if (this.accept('}'))
                return Object.fromEntries(dict);
            const key = keyText(this.value(depth + 1));
            if (!this.accept(':'))
                fail();
            dict.set(key, this.value(depth + 1));
        }
        if (!this.accept('}'))
            fail();
        return Object.fromEntries(dict);
    }
    strings(first) {
        let text = first.value;
        for (let tok = this.peek(); tok.kind === 'str'; tok = this.peek()) {
            if (tok.bytes !== first.bytes)
                fail(); // Python: cannot mix bytes and nonbytes literals
            text += tok.value;
            this.next();
        }
        return text;
    }
    name(text) {
        if (text === 'True')
            return true;
        if (text === 'False')
            return false;
        if (text === 'None')
            return null;
        if (text === 'set' && this.accept('(') && this.accept(')'))
            return [];
        return fail();
    }
    accept(op) {
        const tok = this.peek();
        if (tok.kind !== 'op' || tok.text !== op)
            return false;
        this.next();
        return true;
    }
    peek() {
        this.peeked ??= this.read();
        return this.peeked;
    }
    next() {
        const tok = this.peek();
        this.peeked = null;
        return tok;
    }
    read() {
        const src = this.src;
        while (this.pos < src.length && ' \t\f'.includes(src[this.pos]))
            this.pos++;
        if (this.pos >= src.length || src[this.pos] === '#')
            return { kind: 'end' };
        const ch = src[this.pos];
        if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(src[this.pos + 1] ?? '')))
            return this.number();
        const name = this.match(NAME);
        if (name !== null) {
            const quote = src[this.pos];
            if (quote !== "'" && quote !== '"')
                return { kind: 'name', text: name };
            if (!STRING_PREFIXES.has(name.toLowerCase()))
                return fail(); // f-strings and unknown prefixes
            return this.string(name.toLowerCase());
        }
        if (ch === "'" || ch === '"')
            return this.string('');
        if ('()[]{},:+-'.includes(ch)) {
            this.pos++;
            return { kind: 'op', text: ch };
        }
        return fail();
    }
    number() {
        let text = this.match(RADIX_INT);
        let value;
        let int = true;
        if (text !== null) {
            value = bigInt(BigInt(text.replace(/_/g, '')));
        }
        else if ((text = this.match(FLOAT)) !== null) {
            value = Number(text.replace(/_/g, ''));
            int = false;
        }
        else {
            text = this.match(DEC_INT) ?? fail();
            const digits = text.replace(/_/g, '');
            if (/^0+[1-9]/.test(digits) || digits.length > MAX_INT_DIGITS)
                fail(); // leading zeros: a SyntaxError
            value = bigInt(BigInt(digits));
        }
        if (/[\p{L}\p{N}_.]/u.test(this.src[this.pos] ?? ''))
            fail(); // 1j (complex), 1_, 0x1g, 1.5.3
        return { kind: 'number', value, int };
    }
    string(prefix) {
        const src = this.src;
        const raw = prefix.includes('r');
        const bytes = prefix.includes('b');
        const q = src[this.pos];
        const triple = src.startsWith(q.repeat(3), this.pos);
        const delim = triple ? q.repeat(3) : q;
        let i = this.pos + delim.length;
        const start = i;
        while (!src.startsWith(delim, i)) {
            if (i >= src.length)
                fail();
            i += src[i] === '\\' ? 2 : 1;
        }
        const body = src.slice(start, i);
        this.pos = i + delim.length;
        if (bytes && /[^\p{ASCII}]/u.test(body))
            fail(); // bytes can only contain ASCII literal characters
        if (raw)
            return { kind: 'str', value: body, bytes };
        return { kind: 'str', value: bytes ? decodeBytes(py_literal_unescape(body, true)) : py_literal_unescape(body, false), bytes };
    }
    match(re) {
        re.lastIndex = this.pos;
        const m = re.exec(this.src);
        if (m === null)
            return null;
        this.pos += m[0].length;
        return m[0];
    }
}
function bigInt(n) {
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    return n <= safe && n >= -safe ? Number(n) : String(n);
}
const SIMPLE_ESCAPES = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
/** Python's escape sequences; in bytes \u, \U and \N are not escapes, and \x.. \ooo are byte values. */
function py_literal_unescape(body, bytes) {
    return body.replace(/\\(?:([0-7]{1,3})|x(.{0,2})|u(.{0,4})|U(.{0,8})|(N)|([\s\S]))/g, (all, oct, x, u, U, n, other) => {
        if (oct !== undefined) {
            const code = parseInt(oct, 8);
            return String.fromCharCode(bytes ? code & 0xff : code);
        }
        if (x !== undefined)
            return /^[0-9a-fA-F]{2}$/.test(x) ? String.fromCharCode(parseInt(x, 16)) : fail();
        if (bytes && (u !== undefined || U !== undefined || n !== undefined))
            return all;
        if (u !== undefined)
            return /^[0-9a-fA-F]{4}$/.test(u) ? String.fromCharCode(parseInt(u, 16)) : fail();
        if (U !== undefined) {
            const code = /^[0-9a-fA-F]{8}$/.test(U) ? parseInt(U, 16) : fail();
            return code <= 0x10ffff ? String.fromCodePoint(code) : fail();
        }
        if (n !== undefined)
            return fail(); // \N{NAME}: no Unicode name table here
        return other in SIMPLE_ESCAPES ? SIMPLE_ESCAPES[other] : all;
    });
}
/** ansible-core turns a bytes value into text: UTF-8, each byte that is not valid UTF-8 as U+DC80..U+DCFF (surrogateescape). */
function decodeBytes(latin1) {
    const bytes = Uint8Array.from(latin1, (c) => c.charCodeAt(0));
    const strict = new TextDecoder('utf-8', { fatal: true });
    let out = '';
    for (let i = 0; i < bytes.length;) {
        const len = bytes[i] < 0x80 ? 1 : bytes[i] >= 0xf0 ? 4 : bytes[i] >= 0xe0 ? 3 : 2;
        try {
            out += strict.decode(bytes.subarray(i, i + len));
            i += len;
        }
        catch {
            out += String.fromCharCode(0xdc00 + bytes[i]);
            i += 1;
        }
    }
    return out;
}
/** A set's members once each, in the order written (Python's own order is its hashing order). */
function unique(items) {
    const seen = new Set();
    return items.filter((item) => {
        const key = keyText(item);
        if (seen.has(key))
            return false;
        seen.add(key);
        return true;
    });
}
/** A mapping key as text (as JSON writes Python's keys); lists and mappings cannot be keys. */
function keyText(key) {
    if (typeof key === 'string')
        return key;
    if (key === null)
        return 'null';
    if (typeof key === 'object')
        return fail();
    return String(key);
}

;// CONCATENATED MODULE: ./lib/engine/inventory/shlex.js
/**
 * Python's `shlex.split(line, comments=True)` (POSIX mode), which ansible-core's INI parser uses for a host
 * line: words split on space, tab, CR and LF; single quotes keep everything; double quotes keep everything
 * but `\"` and `\\`; a backslash outside quotes escapes any character; `#` outside quotes ends the line,
 * even inside a word. Throws a plain Error for an unclosed quote or a trailing backslash.
 */
const WHITESPACE = ' \t\r\n';
function shlexSplit(line) {
    const tokens = [];
    let token = '';
    let quoted = false;
    let inWord = false;
    const emit = () => {
        if (inWord || quoted)
            tokens.push(token);
        token = '';
        quoted = false;
        inWord = false;
    };
    for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (WHITESPACE.includes(ch)) {
            emit();
        }
        else if (ch === '#') {
            break;
        }
        else if (ch === "'" || ch === '"') {
            const close = readQuoted(line, i);
            token += close.text;
            i = close.end;
            quoted = true;
            inWord = true;
        }
        else if (ch === '\\') {
            if (i + 1 >= line.length)
                throw new Error('No escaped character (a backslash ends the line)');
            token += line[++i];
            inWord = true;
        }
        else {
            token += ch;
            inWord = true;
        }
    }
    emit();
    return tokens;
}
/** The text inside the quotes opening at `start`, and the index of the closing quote. */
function readQuoted(line, start) {
    const q = line[start];
    let text = '';
    for (let i = start + 1; i < line.length; i++) {
        const ch = line[i];
        if (ch === q)
            return { text, end: i };
        if (q === '"' && ch === '\\' && i + 1 < line.length) {
            const next = line[++i];
            // In double quotes only the quote and the backslash itself are escaped; otherwise both stay.
            text += next === '"' || next === '\\' ? next : ch + next;
        }
        else if (q === '"' && ch === '\\') {
            throw new Error('No escaped character (a backslash ends the line)');
        }
        else {
            text += ch;
        }
    }
    throw new Error(`No closing quotation (a ${q === '"' ? 'double' : 'single'} quote is not closed)`);
}

;// CONCATENATED MODULE: ./lib/engine/inventory/ini.js
/**
 * Ansible's INI inventory, as ansible-core's plugins/inventory/ini.py reads it. Lines before any section
 * are hosts of `ungrouped`; `[group]` lists hosts (`name[:port] [key=value ...]`, split as Python's shlex
 * does, `#` starting a comment), `[group:vars]` one `key=value` a line, `[group:children]` group names.
 * Values, inline or in `:vars`, go through Python's literal_eval as ansible-core's do (`23` a number,
 * `True` a boolean, `'x'` a string), else stay text. A `[g:vars]` or a child named before its group is
 * declared is fine; one never declared is an error at the end. Lines starting with `#` or `;` are comments.
 */






/** An INI inventory's error, with the line it is about (parse.ts weighs it against a YAML reading). */
class IniError extends InventoryError {
    line;
    constructor(message, line) {
        super(message);
        this.line = line;
    }
}
// ini.py's patterns; Python's \s and \w are Unicode.
const SECTION = /^\[([^:\]\s]+)(?::([\p{L}\p{N}_]+))?\]\s*(?:#.*)?$/u;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/u;
/** Python's str.splitlines() breaks. */
// eslint-disable-next-line no-control-regex -- Python splits lines at these control characters too
const LINE_BREAK = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/;
/** Python's str.strip() whitespace. */
const PY_SPACE = String.raw `[\s\x1c-\x1f\x85]`;
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'gu');
function parseIni(text, source) {
    const inv = new InventoryBuilder();
    const pending = new Map();
    let group = 'ungrouped';
    let state = 'hosts';
    const lines = text.split(LINE_BREAK);
    for (let index = 0; index < lines.length; index++) {
        const lineNo = index + 1;
        const line = lines[index].replace(PY_STRIP, '');
        if (line === '' || line[0] === '#' || line[0] === ';')
            continue;
        const fail = (what) => new IniError(`${source} line ${lineNo}: ${what}`, lineNo);
        try {
            const section = SECTION.exec(line);
            if (section !== null) {
                group = section[1];
                const kind = section[2] ?? 'hosts';
                if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
                    throw fail(`section ${(0,parse/* quote */.hD)(line)} has the unknown type ${(0,parse/* quote */.hD)(kind)}; write [${group}], [${group}:vars] or [${group}:children]`);
                }
                state = kind;
                declare(inv, pending, group, state, lineNo);
                continue;
            }
            if (line.startsWith('[') && line.endsWith(']')) {
                throw fail(`${(0,parse/* quote */.hD)(line)} is not a section header; write [group], [group:vars] or [group:children], with no spaces inside the brackets`);
            }
            if (state === 'hosts')
                hostLine(inv, line, group, `line ${lineNo}`);
            else if (state === 'vars')
                varLine(inv, line, group, `line ${lineNo}`);
            else
                childLine(inv, pending, line, group, lineNo);
        }
        catch (err) {
            if (err instanceof BuildError)
                throw fail(err.message);
            if (err instanceof IniError)
                throw err;
            if (err instanceof Error && !(err instanceof InventoryError))
                throw fail(err.message);
            throw err;
        }
    }
    const [name, first] = pending.entries().next().value ?? [];
    if (name !== undefined && first !== undefined) {
        const declared = `no [${name}] or [${name}:children] section declares it`;
        const what = first.state === 'vars' ? `[${name}:vars] is for group ${name}, but ${declared}` : `[${first.parents[0]}:children] lists ${name}, but ${declared}`;
        throw new IniError(`${source} line ${first.line}: ${what}`, first.line);
    }
    return inv.finish(source);
}
/**
 * A section header. As in ini.py: [g] and [g:children] declare g; [g:vars] before that creates g but
 * waits for a declaration; children named before their group is declared are linked when it is.
 */
function declare(inv, pending, group, state, line) {
    if (!inv.hasGroup(group)) {
        if (state === 'vars' && !pending.has(group))
            pending.set(group, { line, state, parents: [] });
        inv.addGroup(group, `line ${line}`);
    }
    const waiting = pending.get(group);
    if (waiting === undefined || state === 'vars')
        return;
    if (waiting.state === 'children')
        linkPending(inv, pending, group);
    else
        pending.delete(group);
}
function linkPending(inv, pending, group) {
    for (const parent of pending.get(group).parents) {
        inv.addChild(parent, group);
        if (pending.get(parent)?.state === 'children')
            linkPending(inv, pending, parent);
    }
    pending.delete(group);
}
function hostLine(inv, line, group, where) {
    let tokens;
    try {
        tokens = shlexSplit(line);
    }
    catch (err) {
        throw new Error(`cannot split the host line ${(0,parse/* quote */.hD)(line)}: ${err.message}`, { cause: err });
    }
    const entry = tokens[0] ?? '';
    const { names, port } = expandHostPattern(entry, MAX_INVENTORY_HOSTS);
    if (entry.trim().endsWith(':') && port === undefined) {
        throw new Error(`host ${(0,parse/* quote */.hD)(entry)} ends with ':'; a ':' after a host name comes before its port (web1:2222)`);
    }
    if (names.some((n) => n.trim() === '---'))
        throw new Error(`host ${(0,parse/* quote */.hD)(entry)}: '---' starts a YAML document, not an INI host`);
    const vars = new Map();
    for (const token of tokens.slice(1)) {
        const eq = token.indexOf('=');
        if (eq === -1)
            throw new Error(`${(0,parse/* quote */.hD)(token)} after host ${(0,parse/* quote */.hD)(entry)} is not key=value; host vars are written name=value`);
        vars.set(token.slice(0, eq), parseIniValue(token.slice(eq + 1)));
    }
    for (const name of names) {
        inv.addHost(name, group, port, where);
        for (const [key, value] of vars)
            inv.setVar(name, key, value, where);
    }
}
function varLine(inv, line, group, where) {
    const eq = line.indexOf('=');
    if (eq === -1)
        throw new Error(`${(0,parse/* quote */.hD)(line)} is not key=value; a [${group}:vars] section holds one name=value a line`);
    const key = line.slice(0, eq).replace(PY_STRIP, '');
    inv.setVar(group, key, parseIniValue(line.slice(eq + 1).replace(PY_STRIP, '')), where);
}
function childLine(inv, pending, line, group, lineNo) {
    const m = GROUP_NAME.exec(line);
    if (m === null)
        throw new Error(`${(0,parse/* quote */.hD)(line)} is not a group name; a [${group}:children] section lists one group a line`);
    const child = m[1];
    if (inv.hasGroup(child)) {
        inv.addChild(group, child);
        return;
    }
    const waiting = pending.get(child);
    if (waiting === undefined)
        pending.set(child, { line: lineNo, state: 'children', parents: [group] });
    else
        waiting.parents.push(group);
}

;// CONCATENATED MODULE: ./lib/engine/inventory/yaml-nodes.js
/**
 * YAML as ansible-core loads it (PyYAML, YAML 1.1, with Ansible's tags), over the `yaml` package's nodes:
 * plain scalars resolve as PyYAML's resolver does (`yes`/`on` booleans but not `y`, `0755` octal, `1:30`
 * sexagesimal, `1e3` text since a float needs a dot, timestamps kept as text); `<<` merge keys and
 * duplicate keys as PyYAML's constructor treats them (the last value wins, in the first key's place);
 * `!unsafe` text as text, `!vault` as `{ __ansible_vault: … }` the way ansible-inventory prints it.
 */


const YAML_TAG = 'tag:yaml.org,2002:';
/** PyYAML's implicit resolvers (yaml/resolver.py) and constructors, as `yaml` custom tags. */
const PY_TAGS = [
    {
        tag: `${YAML_TAG}null`,
        default: true,
        test: /^(?:~|null|Null|NULL)?$/,
        resolve: () => new dist/* Scalar */.X5(null),
    },
    {
        tag: `${YAML_TAG}bool`,
        default: true,
        test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
        resolve: (s) => /^(?:yes|true|on)$/i.test(s),
    },
    {
        tag: `${YAML_TAG}int`,
        default: true,
        test: /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/,
        resolve: (s, onError) => yaml_nodes_pyInt(s) ?? onError(`${JSON.stringify(s)} is not an integer`),
    },
    {
        tag: `${YAML_TAG}float`,
        default: true,
        test: /^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/,
        resolve: (s, onError) => pyFloat(s) ?? onError(`${JSON.stringify(s)} is not a number`),
    },
    ...['timestamp', 'binary'].map((t) => ({ tag: `${YAML_TAG}${t}`, resolve: (s) => s })),
    ...['!unsafe', '!vault', '!vault-encrypted'].map((tag) => ({ tag, resolve: (s) => s })),
];
/** Most nodes one inventory's values may expand to through aliases (a "billion laughs" file stops here). */
const MAX_NODES = 1_000_000;
/** A YAML syntax error: the message says the line and column. */
class YamlSyntaxError extends InventoryError {
    line;
    constructor(message, line) {
        super(message);
        this.line = line;
    }
}
/** Parses one YAML document; throws YamlSyntaxError (and for a tag ansible-core cannot construct). */
function readYaml(text, source) {
    const lines = new dist/* LineCounter */.HN();
    const doc = (0,dist/* parseDocument */.Tp)(text, {
        version: '1.1',
        schema: 'failsafe',
        customTags: PY_TAGS,
        merge: false,
        uniqueKeys: false,
        lineCounter: lines,
        prettyErrors: false,
    });
    const problem = doc.errors[0] ?? doc.warnings.find((w) => w.code === 'TAG_RESOLVE_FAILED');
    if (problem !== undefined) {
        const { line, col } = lines.linePos(problem.pos[0]);
        const what = problem.code === 'TAG_RESOLVE_FAILED' ? `${problem.message}; ansible-core reads YAML's own tags, !unsafe and !vault` : problem.message.split('\n')[0];
        throw new YamlSyntaxError(`${source} line ${line}, column ${col}: ${what}`, line);
    }
    return { doc, lines };
}
/** Walks one file's nodes: aliases resolved, merges flattened, positions, a budget against alias bombs. */
class Nodes {
    yaml;
    source;
    visited = 0;
    /** Each alias's node, found once for all at the first alias (yaml's Alias.resolve searches the whole document each time). */
    anchors;
    constructor(yaml, source) {
        this.yaml = yaml;
        this.source = source;
    }
    /** An alias names the last node anchored with its name before it. */
    target(alias) {
        if (this.anchors === undefined) {
            const anchors = new Map();
            const named = new Map();
            (0,dist/* visit */.YR)(this.yaml.doc, (_key, node) => {
                if ((0,dist/* isAlias */.Vj)(node)) {
                    const target = named.get(node.source);
                    if (target !== undefined)
                        anchors.set(node, target);
                }
                else if (((0,dist/* isScalar */.jn)(node) || (0,dist/* isMap */.jh)(node) || (0,dist/* isSeq */.oP)(node)) && node.anchor !== undefined) {
                    named.set(node.anchor, node);
                }
            });
            this.anchors = anchors;
        }
        return this.anchors.get(alias);
    }
    /** The line a node starts on (1-based), for messages. */
    line(node) {
        return node?.range ? this.yaml.lines.linePos(node.range[0]).line : 0;
    }
    fail(node, path, what) {
        return new InventoryError(`${this.source} ${path} (line ${this.line(node)}): ${what}`);
    }
    /** The node itself (aliases followed), or null for nothing or a null scalar. */
    resolve(node, path) {
        let current = node ?? null;
        if ((0,dist/* isAlias */.Vj)(current)) {
            current = this.target(current) ?? null;
            if (current === null)
                throw this.fail(node, path, 'an alias names no anchor');
        }
        if (++this.visited > MAX_NODES)
            throw this.fail(node, path, `the aliases expand to more than ${MAX_NODES} values`);
        if ((0,dist/* isScalar */.jn)(current) && current.value === null)
            return null; // `key:`, `key: ~`, `key: null`
        return current;
    }
    /**
     * A mapping's entries as PyYAML constructs them: `<<` merges first (a list of them, the last listed
     * first, so earlier ones win), then the mapping's own; a key written twice keeps its first place and
     * its last value.
     */
    entries(map, path) {
        const out = new Map();
        for (const pair of this.flatten(map, path, new Set())) {
            const key = this.key(pair.key, path);
            const id = `${typeof key}:${String(key)}`;
            const first = out.get(id);
            if (first === undefined)
                out.set(id, { key, keyNode: pair.key, value: pair.value });
            else
                out.set(id, { ...first, keyNode: pair.key, value: pair.value });
        }
        return [...out.values()];
    }
    /** The value a var holds. */
    value(node, path, stack = new Set()) {
        const n = this.resolve(node, path);
        if (n === null)
            return null;
        if (stack.has(n))
            throw this.fail(n, path, 'a value contains itself (through an alias)');
        stack.add(n);
        try {
            if ((0,dist/* isScalar */.jn)(n))
                return scalarValue(n);
            if ((0,dist/* isMap */.jh)(n)) {
                if (n.tag === `${YAML_TAG}set`)
                    return this.entries(n, path).map((e) => e.key);
                return Object.fromEntries(this.entries(n, path).map((e) => [yaml_nodes_keyText(e.key), this.value(e.value, `${path}.${yaml_nodes_keyText(e.key)}`, stack)]));
            }
            if ((0,dist/* isSeq */.oP)(n))
                return n.items.map((item, i) => this.value(item, `${path}[${i}]`, stack));
            return null;
        }
        finally {
            stack.delete(n);
        }
    }
    flatten(map, path, seen) {
        if (!(0,dist/* isMap */.jh)(map))
            throw this.fail(map, path, 'a merge (<<) takes a mapping or a list of mappings');
        if (seen.has(map))
            throw this.fail(map, path, 'a merge (<<) includes its own mapping');
        seen.add(map);
        const merged = [];
        const own = [];
        for (const pair of map.items) {
            const key = pair.key;
            const value = pair.value;
            if (!isMergeKey(key)) {
                own.push({ key, value });
                continue;
            }
            const source = this.resolve(value, path);
            const sources = (0,dist/* isSeq */.oP)(source) ? source.items.map((item) => this.resolve(item, path)) : [source];
            for (const s of sources.reverse()) {
                if (!(0,dist/* isMap */.jh)(s))
                    throw this.fail(key, path, 'a merge (<<) takes a mapping or a list of mappings');
                merged.push(...this.flatten(s, path, new Set(seen)));
            }
        }
        return merged.length === 0 ? own : merged.concat(own);
    }
    key(node, path) {
        const n = this.resolve(node, path);
        if (n === null)
            return null;
        if (!(0,dist/* isScalar */.jn)(n))
            throw this.fail(n, path, 'a mapping key is a list or a mapping; keys are names');
        const v = scalarValue(n);
        if (v !== null && typeof v === 'object')
            throw this.fail(n, path, 'a mapping key is an encrypted (!vault) value');
        return v;
    }
}
function isMergeKey(node) {
    return (0,dist/* isScalar */.jn)(node) && node.type === dist/* Scalar */.X5.PLAIN && node.value === '<<' && node.tag === undefined;
}
function scalarValue(node) {
    const v = node.value;
    if (node.tag === '!vault' || node.tag === '!vault-encrypted')
        return { __ansible_vault: String(v) };
    if (typeof v === 'bigint')
        return bigIntValue(v);
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
        return v;
    return null; // the tags above make nothing else
}
/** A key as text (as JSON writes Python's keys). */
function yaml_nodes_keyText(key) {
    if (key === null)
        return 'null';
    return typeof key === 'object' ? JSON.stringify(key) : String(key);
}
/** An integer too large for a JavaScript number is kept as its decimal text. */
function bigIntValue(n) {
    const safe = BigInt(Number.MAX_SAFE_INTEGER);
    return n <= safe && n >= -safe ? Number(n) : String(n);
}
/** PyYAML's construct_yaml_int (kept a bigint until the value is taken, so a key's type stays known). */
function yaml_nodes_pyInt(text) {
    let s = text.replace(/_/g, '');
    const sign = s.startsWith('-') ? -1n : 1n;
    if (s.startsWith('-') || s.startsWith('+'))
        s = s.slice(1);
    try {
        if (s === '0')
            return 0n;
        if (s.startsWith('0b'))
            return sign * BigInt(`0b${s.slice(2)}`);
        if (s.startsWith('0x'))
            return sign * BigInt(`0x${s.slice(2)}`);
        if (s.startsWith('0'))
            return sign * BigInt(`0o${s.slice(1)}`);
        if (s.includes(':'))
            return sign * s.split(':').reduce((n, part) => n * 60n + BigInt(part), 0n);
        return sign * BigInt(s);
    }
    catch {
        return undefined;
    }
}
/** PyYAML's construct_yaml_float. */
function pyFloat(text) {
    let s = text.replace(/_/g, '').toLowerCase();
    const sign = s.startsWith('-') ? -1 : 1;
    if (s.startsWith('-') || s.startsWith('+'))
        s = s.slice(1);
    if (s === '.inf')
        return sign * Infinity;
    if (s === '.nan')
        return NaN;
    const n = s.includes(':') ? s.split(':').reduce((acc, part) => acc * 60 + Number(part), 0) : Number(s);
    return Number.isNaN(n) ? undefined : sign * n;
}

;// CONCATENATED MODULE: ./lib/engine/inventory/yaml.js
/**
 * Ansible's YAML inventory, as ansible-core's plugins/inventory/yaml.py reads it: top-level keys are
 * groups; a group is a mapping (or empty) with `hosts` (host entries, each with its vars or nothing),
 * `children` (groups, the same way) and `vars`, taken in the order written; `hosts: web1` (text) means
 * one host. What ansible-core skips with a warning (a key that is not a group, an unknown key in a group)
 * goes to `ignored`; what it refuses is an error naming the key path and line.
 */






const SECTIONS = ['vars', 'children', 'hosts'];
const GROUP_FORM = 'a group is a mapping with hosts, children and vars (each optional), or empty';
function parseYaml(yaml, source) {
    return new YamlInventory(yaml, source).read();
}
class YamlInventory {
    yaml;
    source;
    nodes;
    inv = new InventoryBuilder();
    constructor(yaml, source) {
        this.yaml = yaml;
        this.source = source;
        this.nodes = new Nodes(yaml, source);
    }
    read() {
        const root = this.nodes.resolve(this.yaml.doc.contents, '');
        if (!(0,dist/* isMap */.jh)(root))
            throw new InventoryError(`${this.source}: a YAML inventory is a mapping of groups (all:, web:, …)`);
        const top = this.nodes.entries(root, '');
        const plugin = top.find((e) => e.key === 'plugin');
        if (plugin !== undefined && truthy(this.nodes.value(plugin.value, 'plugin'))) {
            throw this.nodes.fail(plugin.keyNode, 'plugin', "this is an inventory plugin's configuration, not an inventory; only YAML and INI inventories are read");
        }
        for (const e of top)
            this.group(e, yaml_nodes_keyText(e.key));
        return this.inv.finish(this.source);
    }
    /** A group and what is under it; returns its name and whether it was skipped as not a group. */
    group(e, path) {
        const data = this.nodes.resolve(e.value, path);
        if (data !== null && !(0,dist/* isMap */.jh)(data)) {
            this.inv.ignored.push(path);
            return { name: e.key, skipped: true };
        }
        if (typeof e.key !== 'string')
            throw this.nodes.fail(e.keyNode, path, `group name ${yaml_nodes_keyText(e.key)} is not text; quote it`);
        const name = e.key;
        this.build(e.keyNode, path, () => this.inv.addGroup(name, this.where(path, e.keyNode)));
        if (data === null)
            return { name, skipped: false };
        const entries = this.nodes.entries(data, path);
        const sections = new Map(SECTIONS.map((s) => [s, this.section(entries, s, `${path}.${s}`)]));
        for (const entry of entries) {
            const key = yaml_nodes_keyText(entry.key);
            const at = `${path}.${key}`;
            const items = typeof entry.key === 'string' && SECTIONS.includes(entry.key) ? sections.get(entry.key) : this.mapping(entry.value, at);
            if (items === 'not a mapping')
                this.inv.ignored.push(at);
            else if (items === null)
                continue;
            else if (key === 'vars')
                for (const v of items)
                    this.setVar(name, v, `${at}.${yaml_nodes_keyText(v.key)}`);
            else if (key === 'children')
                for (const c of items)
                    this.child(name, c, `${at}.${yaml_nodes_keyText(c.key)}`);
            else if (key === 'hosts')
                for (const h of items)
                    this.host(name, h, `${at}.${yaml_nodes_keyText(h.key)}`);
            else
                this.inv.ignored.push(at);
        }
        return { name, skipped: false };
    }
    /** `hosts`, `children`, `vars`: a mapping, empty, or text standing for one key with no value. */
    section(entries, name, path) {
        const entry = entries.find((e) => e.key === name);
        if (entry === undefined)
            return undefined;
        const node = this.nodes.resolve(entry.value, path);
        if ((0,dist/* isScalar */.jn)(node) && typeof node.value === 'string')
            return [{ key: node.value, keyNode: node, value: null }];
        const items = this.mapping(node, path);
        if (items === 'not a mapping')
            throw this.nodes.fail(entry.keyNode, path, `${name} is a mapping (or empty); here it is ${kind(node)}`);
        return items;
    }
    mapping(node, path) {
        const n = this.nodes.resolve(node, path);
        if (n === null)
            return null;
        return (0,dist/* isMap */.jh)(n) ? this.nodes.entries(n, path) : 'not a mapping';
    }
    child(parent, e, path) {
        const { name, skipped } = this.group(e, path);
        // ansible-core still links a skipped child when a group (or host) of that name exists.
        try {
            if (typeof name !== 'string')
                throw new BuildError(`group name ${yaml_nodes_keyText(name)} is not text; quote it`);
            this.inv.addChild(parent, name);
        }
        catch (err) {
            if (!(err instanceof BuildError))
                throw err;
            throw this.nodes.fail(e.keyNode, path, skipped ? `${GROUP_FORM}; here it is ${kind(this.nodes.resolve(e.value, path))}` : err.message);
        }
    }
    host(group, e, path) {
        if (typeof e.key !== 'string') {
            throw this.nodes.fail(e.keyNode, path, `host name ${yaml_nodes_keyText(e.key)} is not text; quote it (e.g. "10.0.0.1" or "1234")`);
        }
        const entry = e.key;
        const { names, port } = this.build(e.keyNode, path, () => expandHostPattern(entry, MAX_INVENTORY_HOSTS));
        const node = this.nodes.resolve(e.value, path);
        // ansible-core reads any false-like value (nothing, '', 0, false, [], {}) as no vars.
        const vars = (0,dist/* isMap */.jh)(node) ? this.nodes.entries(node, path) : [];
        if (node !== null && !(0,dist/* isMap */.jh)(node) && truthy(this.nodes.value(node, path))) {
            throw this.nodes.fail(e.keyNode, path, `a host's value is a mapping of its vars, or empty; here it is ${kind(node)}`);
        }
        const where = this.where(path, e.keyNode);
        for (const name of names) {
            this.build(e.keyNode, path, () => this.inv.addHost(name, group, port, where));
            for (const v of vars)
                this.setVar(name, v, `${path}.${yaml_nodes_keyText(v.key)}`);
        }
    }
    setVar(entity, v, path) {
        const value = this.nodes.value(v.value, path);
        this.build(v.keyNode, path, () => this.inv.setVar(entity, yaml_nodes_keyText(v.key), value, this.where(path, v.keyNode)));
    }
    where(path, node) {
        return `${path} (line ${this.nodes.line(node)})`;
    }
    build(node, path, step) {
        try {
            return step();
        }
        catch (err) {
            if (err instanceof BuildError || (err instanceof Error && !(err instanceof InventoryError)))
                throw this.nodes.fail(node, path, err.message);
            throw err;
        }
    }
}
/** Python's truth of a value. */
function truthy(v) {
    if (v === null || v === false || v === 0 || v === '')
        return false;
    if (Array.isArray(v))
        return v.length > 0;
    if (typeof v === 'object')
        return Object.keys(v).length > 0;
    return true;
}
function kind(node) {
    if ((0,dist/* isSeq */.oP)(node))
        return 'a list';
    if ((0,dist/* isMap */.jh)(node))
        return 'a mapping';
    if (!(0,dist/* isScalar */.jn)(node))
        return 'empty';
    const v = node.value;
    return typeof v === 'string' ? `the text ${(0,parse/* quote */.hD)(v)}` : `${typeof v === 'bigint' ? 'the number' : `the ${typeof v}`} ${String(v)}`;
}

;// CONCATENATED MODULE: ./lib/engine/inventory/parse.js
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




const YAML_START = /^(?:---(?:\s|$)|%|\{|(?:[^\s:#=[\]{}'"]+|"[^"]*"|'[^']*')\s*:(?:\s|$))/;
function parseInventory(text, source) {
    const body = text.replace(/^\ufeff/, ''); // a byte order mark, which some editors write
    let yaml;
    try {
        yaml = readYaml(body, source);
    }
    catch (err) {
        if (!(err instanceof YamlSyntaxError))
            throw err;
        return iniElse(body, source, err);
    }
    const nodes = new Nodes(yaml, source);
    const root = nodes.resolve(yaml.doc.contents, '');
    if (!(0,dist/* isMap */.jh)(root))
        return parseIni(body, source);
    if (startsLikeYaml(body))
        return parseYaml(yaml, source);
    try {
        return parseIni(body, source);
    }
    catch (err) {
        if (!(err instanceof IniError))
            throw err;
        const values = root.items.map((pair) => nodes.resolve(pair.value, ''));
        if (values.every((v) => v === null || (0,dist/* isMap */.jh)(v)) && values.some((v) => (0,dist/* isMap */.jh)(v) && v.items.length > 0))
            return parseYaml(yaml, source);
        throw err;
    }
}
/** Not YAML: INI, or when that fails too, the error of the reading that got further. */
function iniElse(body, source, yamlError) {
    try {
        return parseIni(body, source);
    }
    catch (err) {
        if (!(err instanceof IniError))
            throw err;
        if (/^\[/m.test(body) || err.line > yamlError.line)
            throw err;
        if (err.line === yamlError.line && !startsLikeYaml(body))
            throw err;
        throw yamlError;
    }
}
function startsLikeYaml(body) {
    const first = body.split(/\r\n|[\n\r]/).find((line) => line.trim() !== '' && !/^\s*[#;]/.test(line)) ?? '';
    return YAML_START.test(first.trim());
}

;// CONCATENATED MODULE: ./lib/engine/inventory/glob.js
/**
 * Python's fnmatch.translate (3.11, as ansible-core uses it for a host pattern without `~`),
 * written straight to a JS RegExp: `*` any run, `?` one character, `[seq]` / `[!seq]` a set
 * (`]` first is literal, `-` ranges, a reversed range matches nothing, an unclosed `[` is
 * literal), everything else literal; the whole name must match; case counts.
 */
/** Escapes a character for a JS `u`-mode pattern outside a class. */
const literal = (c) => (/[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c);
/** Escapes a character inside a JS `u`-mode class. */
const classChar = (c) => (/[\\\]^[-]/.test(c) ? `\\${c}` : c);
/**
 * The set between `[` and `]` (code points chars[from..to)), as fnmatch builds it: split into
 * chunks at the range hyphens, drop empty ranges, then each chunk literal.
 */
function charSet(chars, from, to) {
    const negated = chars[from] === '!';
    let i = from;
    const chunks = [];
    let k = negated ? from + 2 : from + 1;
    if (chars.slice(from, to).includes('-')) {
        for (;;) {
            k = chars.indexOf('-', k);
            if (k < 0 || k >= to)
                break;
            chunks.push(chars.slice(i, k));
            i = k + 1;
            k = k + 3;
        }
        const last = chars.slice(i, to);
        if (last.length > 0)
            chunks.push(last);
        else
            chunks[chunks.length - 1].push('-');
        // Remove empty ranges (a chunk's last char after the next chunk's first).
        for (let c = chunks.length - 1; c > 0; c--) {
            const prev = chunks[c - 1];
            const cur = chunks[c];
            if (prev.length > 0 && cur.length > 0 && prev[prev.length - 1].codePointAt(0) > cur[0].codePointAt(0)) {
                chunks[c - 1] = [...prev.slice(0, -1), ...cur.slice(1)];
                chunks.splice(c, 1);
            }
        }
    }
    else {
        chunks.push(chars.slice(from, to));
    }
    const flat = chunks.flat();
    if (flat.length === 0)
        return '(?!)'; // empty set: never matches
    if (flat.length === 1 && flat[0] === '!')
        return '[^]'; // negated empty set: any character
    // The leading `!` sits in the first chunk; the other chunks are joined by range hyphens.
    const body = chunks.map((chunk, n) => (n === 0 && negated ? chunk.slice(1) : chunk).map(classChar).join('')).join('-');
    return negated ? `[^${body}]` : `[${body}]`;
}
/** The JS source of fnmatch.translate(pattern), anchored at both ends. */
function globSource(pattern) {
    const chars = Array.from(pattern);
    const n = chars.length;
    let out = '';
    let i = 0;
    while (i < n) {
        const c = chars[i++];
        if (c === '*') {
            if (!out.endsWith('[^]*'))
                out += '[^]*';
        }
        else if (c === '?') {
            out += '[^]';
        }
        else if (c === '[') {
            let j = i;
            if (j < n && chars[j] === '!')
                j++;
            if (j < n && chars[j] === ']')
                j++;
            while (j < n && chars[j] !== ']')
                j++;
            if (j >= n) {
                out += '\\[';
            }
            else {
                out += charSet(chars, i, j);
                i = j + 1;
            }
        }
        else {
            out += literal(c);
        }
    }
    return `^(?:${out})$`;
}
function globRegExp(pattern) {
    return new RegExp(globSource(pattern), 'u');
}

;// CONCATENATED MODULE: ./lib/engine/inventory/order.js
/**
 * Host order as Ansible prints it (`ansible all --list-hosts`): ansible-core's Group.get_hosts,
 * which walks the group and its descendants (_walk_relationship with preserve_ordering) and
 * takes each group's own hosts in turn, a host once, where first met.
 *
 * The walk: the group itself, then its children in list order, then level by level deeper. At
 * the deeper levels ansible-core iterates a Python *set* of groups (hashed by object identity),
 * so when two groups of one level both bring new children, their order is arbitrary and varies
 * from run to run (seen with `ansible all --list-hosts` on the same file). We make it
 * deterministic the natural way: each level is taken in the order its groups were reached, a
 * breadth-first walk in list order. Ansible's order is then one of the orders it can print.
 */


/** The group of that name; the model guarantees every child named exists. */
function groupOf(inv, name) {
    const group = inv.groups.get(name);
    if (group === undefined)
        throw new InventoryError(`the inventory has no group ${(0,parse/* quote */.hD)(name)}`);
    return group;
}
/** The group and all its descendants, each once, in Ansible's walk order (made deterministic, see above). */
function walkGroups(inv, name) {
    const start = groupOf(inv, name);
    const seen = new Set([start.name]);
    const ordered = [start];
    // Level by level: the groups of a level in the order they were reached (Ansible: a set).
    let level = [start];
    while (level.length > 0) {
        const next = [];
        for (const group of level) {
            for (const child of group.children) {
                if (seen.has(child))
                    continue;
                seen.add(child);
                const g = groupOf(inv, child);
                ordered.push(g);
                next.push(g);
            }
        }
        level = next;
    }
    return ordered;
}
/** The hosts of a group and of its descendants, in Ansible's order (Group.get_hosts). */
function groupHosts(inv, name) {
    const seen = new Set();
    const hosts = [];
    for (const group of walkGroups(inv, name)) {
        for (const host of group.hosts) {
            if (seen.has(host))
                continue;
            seen.add(host);
            hosts.push(host);
        }
    }
    return hosts;
}
/** Every host in inventory order: `ansible all --list-hosts`. */
function inventoryOrder(inv) {
    return groupHosts(inv, 'all');
}
/**
 * For each host, the group it is listed in directly that comes first in the walk from `all`
 * (never `all` itself: a host listed only there is in `ungrouped` too). batch-by: group files a
 * host named on its own in the pattern under this group.
 */
function firstOwnGroups(inv) {
    const first = new Map();
    for (const group of walkGroups(inv, 'all')) {
        if (group.name === 'all')
            continue;
        for (const host of group.hosts)
            if (!first.has(host))
                first.set(host, group.name);
    }
    return first;
}

;// CONCATENATED MODULE: ./lib/engine/inventory/regex.js
/**
 * A `~regex` host pattern: Python's `re` syntax (ansible-core compiles it with re.compile and
 * calls .match: anchored at the start only), translated to a JS RegExp with the same meaning.
 *
 * Translated so they mean what Python means: `\d` `\w` `\s` (Unicode, as Python's str
 * patterns), `\b` `\B`, `\A` `\Z`, `$` (also before a final newline), `.` (anything but a
 * newline), `(?P<name>...)` `(?P=name)`, `{,n}`, a `{` or `}` that is no repeat (literal), a
 * leading `(?i)` `(?s)` `(?m)`, `\U` escapes, escaped punctuation.
 * Refused, because JS has no equivalent or means something else: `(?x)` `(?a)` `(?L)` and flags
 * after the start or scoped `(?i:...)`, `(?>...)` atomic groups, possessive `*+ ++ ?+ {m,n}+`,
 * conditionals `(?(1)...)`, `\N{name}`, octal escapes, `\D` `\W` `\S` inside `[...]`, a
 * repeat on a lookaround. Invalid as in Python: a repeat on an anchor, a reference to a group
 * not yet closed, a repeat inside a look-behind (fixed width; look-behind alternatives of
 * different widths are not caught: JS takes them). What remains is the same syntax in both.
 * Checked against Python's re over thousands of random regexes (test/engine/inventory-syntax).
 */


/** Python's \w for str patterns: alphanumeric (letters, numbers) or underscore. */
const PY_WORD = '\\p{L}\\p{N}_';
/** Python's \s for str patterns (str.isspace): includes \x1c-\x1f, not \ufeff. */
const regex_PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const CLASS_ESCAPES = { d: '\\p{Nd}', w: PY_WORD, s: regex_PY_SPACE };
const CONTROL = { a: '\\x07', f: '\\f', n: '\\n', r: '\\r', t: '\\t', v: '\\v' };
const SYNTAX = /[\\^$.*+?()[\]{}|/]/;
/** A code point as a JS `u`-mode escape. */
const codePoint = (cp) => `\\u{${cp.toString(16)}}`;
class Translator {
    src;
    pattern;
    i = 0;
    out = '';
    flags = { i: false, m: false, s: false };
    /**
     * Open groups (a lookaround or not, the capturing group's number): a `)` with none open would
     * close our own `^(?:` wrapper. Python refers back only to closed groups (JS also to open or
     * later ones, as empty), so references are checked against `closed`.
     */
    open = [];
    closed = new Set();
    names = new Map();
    groups = 0;
    /** What a repeat would apply to: Python repeats a lookaround (JS does not), never an anchor. */
    last = 'none';
    constructor(src, pattern) {
        this.src = src;
        this.pattern = pattern;
    }
    refuse(what) {
        throw new InventoryError(`the regex in host pattern ${(0,parse/* quote */.hD)(`~${this.pattern}`)} uses ${what}, which JavaScript reads differently; rewrite it without`);
    }
    invalid(why) {
        throw new InventoryError(`host pattern ${(0,parse/* quote */.hD)(`~${this.pattern}`)} is not a valid regular expression: ${why}`);
    }
    peek(offset = 0) {
        return this.src[this.i + offset];
    }
    take(count) {
        const s = this.src.slice(this.i, this.i + count).join('');
        this.i += count;
        return s;
    }
    translate() {
        this.leadingFlags();
        while (this.i < this.src.length)
            this.atom();
        try {
            return new RegExp(`^(?:${this.out})`, this.flags.i ? 'iu' : 'u');
        }
        catch (err) {
            return this.invalid(err.message.replace(/^Invalid regular expression: /, ''));
        }
    }
    /** Global flags are allowed only at the very start (Python 3.11). */
    leadingFlags() {
        for (;;) {
            const m = /^\(\?([a-zA-Z]+)\)/.exec(this.src.slice(this.i, this.i + 12).join(''));
            if (!m)
                return;
            for (const f of m[1]) {
                if (f === 'i' || f === 'm' || f === 's')
                    this.flags[f] = true;
                else if (f !== 'u')
                    this.refuse(`the flag (?${f})`);
            }
            this.i += m[0].length;
        }
    }
    atom() {
        const c = this.src[this.i++];
        const before = this.last;
        this.last = c === '^' || c === '$' ? 'anchor' : c === '|' || c === '(' ? 'none' : 'item';
        // A repeat applies to what came before; so does one after a comment (?#...).
        if (c === '*' || c === '+' || c === '?' || c === '{' || (c === '(' && this.peek() === '?' && this.peek(1) === '#'))
            this.last = before;
        if (c === '\\')
            this.out += this.escape(false);
        else if (c === '[')
            this.charClass();
        else if (c === '(')
            this.group();
        else if (c === '.')
            this.out += this.flags.s ? '[^]' : '[^\\n]';
        else if (c === '^')
            this.out += this.flags.m ? '(?<![^\\n])' : '(?<![^])';
        else if (c === '$')
            this.out += this.flags.m ? '(?=\\n|(?![^]))' : '(?=\\n?(?![^]))';
        else if (c === '*' || c === '+' || c === '?')
            this.quantified(c);
        else if (c === '{')
            this.brace();
        else if (c === ')')
            this.closeGroup();
        else if (c === '|')
            this.out += c;
        else
            this.out += SYNTAX.test(c) ? `\\${c}` : c;
    }
    /** A repeat, then an optional lazy `?`; a `+` after it is Python's possessive repeat. */
    quantified(q) {
        if (this.last === 'anchor')
            this.invalid('nothing to repeat');
        if (this.last === 'lookaround')
            this.refuse('a repeat on a lookaround');
        // Python's look-behind must have a fixed width (JS takes any); alternatives of other widths are not caught here.
        if (!/^\{(\d+)\}$/.test(q) && this.open.some((g) => g.behind))
            this.invalid('look-behind requires fixed-width pattern');
        this.last = 'item';
        this.out += q;
        if (this.peek() === '?')
            this.out += this.take(1);
        else if (this.peek() === '+')
            this.refuse('a possessive repeat (*+, ++, ?+, {m,n}+)');
    }
    /** `{m}`, `{m,}`, `{,n}`, `{m,n}` repeat; any other `{` is a literal (sre_parse). */
    brace() {
        const m = /^(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.i, this.i + 40).join(''));
        if (!m || m[0] === '}') {
            this.last = 'item';
            this.out += '\\{';
            return;
        }
        this.i += m[0].length;
        const lo = m[1] === '' ? '0' : m[1];
        this.quantified(m[2] ? `{${lo},${m[3]}}` : `{${lo}}`);
    }
    closeGroup() {
        const group = this.open.pop();
        if (group === undefined)
            this.invalid('unbalanced parenthesis');
        if (group.group !== undefined)
            this.closed.add(group.group);
        this.last = group.lookaround ? 'lookaround' : 'item';
        this.out += ')';
    }
    /** A back reference: to a closed group only, as in Python. */
    reference(group) {
        if (!this.closed.has(group))
            this.invalid(`invalid group reference ${group} (a group must be closed before it is referred to)`);
        this.last = 'item';
    }
    group() {
        if (this.peek() !== '?') {
            this.open.push({ lookaround: false, group: ++this.groups });
            this.out += '(';
            return;
        }
        const rest = this.src.slice(this.i, this.i + 3).join('');
        if (rest.startsWith('?:') || rest.startsWith('?=') || rest.startsWith('?!') || rest.startsWith('?<=') || rest.startsWith('?<!')) {
            const n = rest.startsWith('?<') ? 3 : 2;
            this.open.push({ lookaround: !rest.startsWith('?:'), behind: rest.startsWith('?<') });
            this.out += `(${this.take(n)}`;
        }
        else if (rest.startsWith('?P<')) {
            const end = this.src.indexOf('>', this.i);
            const name = end < 0 ? '' : this.src.slice(this.i + 3, end).join('');
            this.names.set(name, ++this.groups);
            this.open.push({ lookaround: false, group: this.groups });
            this.i += 3;
            this.out += '(?<';
        }
        else if (rest.startsWith('?P=')) {
            const end = this.src.indexOf(')', this.i);
            if (end < 0)
                this.invalid('missing ) after (?P=');
            const name = this.src.slice(this.i + 3, end).join('');
            this.reference(this.names.get(name) ?? 0);
            this.out += `\\k<${name}>`;
            this.i = end + 1;
        }
        else if (rest.startsWith('?#')) {
            const end = this.src.indexOf(')', this.i);
            if (end < 0)
                this.invalid('missing ) after comment');
            this.i = end + 1;
        }
        else if (rest.startsWith('?>')) {
            this.refuse('an atomic group (?>...)');
        }
        else if (rest.startsWith('?(')) {
            this.refuse('a conditional group (?(...)...)');
        }
        else if (/^\?[-a-zA-Z]/.test(rest)) {
            this.refuse('inline flags after the start or scoped flags (?flags:...)');
        }
        else {
            this.invalid(`unknown extension (${rest}`);
        }
    }
    charClass() {
        let body = '';
        if (this.peek() === '^')
            body += this.take(1);
        if (this.peek() === ']')
            body += '\\' + this.take(1); // `]` first is a literal
        for (;;) {
            const c = this.src[this.i++];
            if (c === undefined)
                this.invalid('unterminated character set');
            if (c === ']')
                break;
            if (c === '\\')
                body += this.escape(true);
            else
                body += c === '[' || c === '^' ? `\\${c}` : c;
        }
        this.out += `[${body}]`;
    }
    /** The escape after a backslash, as Python reads it, in JS syntax. */
    escape(inClass) {
        const c = this.src[this.i++];
        if (c === undefined)
            this.invalid('bad escape (end of pattern)');
        if (CLASS_ESCAPES[c] !== undefined)
            return inClass ? CLASS_ESCAPES[c] : `[${CLASS_ESCAPES[c]}]`;
        const lower = c.toLowerCase();
        if ((c === 'D' || c === 'W' || c === 'S') && CLASS_ESCAPES[lower] !== undefined) {
            if (inClass)
                this.refuse(`\\${c} inside [...]`);
            return `[^${CLASS_ESCAPES[lower]}]`;
        }
        if (CONTROL[c] !== undefined)
            return CONTROL[c];
        if (!inClass && 'bBAZ'.includes(c))
            this.last = 'anchor';
        if (c === 'b')
            return inClass ? '\\x08' : `(?:(?<=[${PY_WORD}])(?![${PY_WORD}])|(?<![${PY_WORD}])(?=[${PY_WORD}]))`;
        // sre: \B never matches in an empty string.
        if (!inClass && c === 'B')
            return `(?!(?<![^])(?![^]))(?:(?<=[${PY_WORD}])(?=[${PY_WORD}])|(?<![${PY_WORD}])(?![${PY_WORD}]))`;
        if (!inClass && c === 'A')
            return '(?<![^])';
        if (!inClass && c === 'Z')
            return '(?![^])';
        const hex = { x: 2, u: 4, U: 8 }[c];
        if (hex !== undefined) {
            const digits = this.src.slice(this.i, this.i + hex).join('');
            if (!new RegExp(`^[0-9a-fA-F]{${hex}}$`).test(digits))
                this.invalid(`incomplete escape \\${c}${digits}`);
            this.i += hex;
            const cp = parseInt(digits, 16);
            if (cp > 0x10ffff)
                this.invalid(`bad escape \\${c}${digits}`);
            return codePoint(cp);
        }
        if (c === 'N')
            this.refuse('\\N{...} named characters');
        if (/[0-9]/.test(c)) {
            // \0 and three octal digits are octal escapes; otherwise a group reference (sre_parse).
            const next = this.peek();
            const third = this.peek(1);
            if (inClass || c === '0' || (/[0-7]/.test(c) && next !== undefined && /[0-7]/.test(next) && third !== undefined && /[0-7]/.test(third))) {
                this.refuse('an octal escape (\\0, \\NNN)');
            }
            const ref = `${c}${next !== undefined && /[0-9]/.test(next) ? this.take(1) : ''}`;
            this.reference(Number(ref));
            return `\\${ref}`;
        }
        if (/[a-zA-Z]/.test(c))
            this.invalid(`bad escape \\${c}`);
        // Python lets any other character be escaped; JS `u` mode only syntax characters.
        return SYNTAX.test(c) ? `\\${c}` : codePoint(c.codePointAt(0));
    }
}
/** `~regex` (without the `~`) as a RegExp that tests what Python's re.match would. */
function pythonRegExp(pattern) {
    return new Translator(Array.from(pattern), pattern).translate();
}

;// CONCATENATED MODULE: ./lib/engine/inventory/split.js
/**
 * A host pattern cut into terms and put in the order Ansible applies them (ansible-core
 * inventory/manager.py split_host_pattern and order_patterns, parsing/utils/addresses.py).
 *
 * A comma anywhere: split on commas only. Otherwise, when the whole pattern reads as one
 * address (parse_address with ranges: a host name, IPv4 or IPv6 address, with `[x:y]` ranges
 * and an optional `:port`), it is one term; else it is cut at `:` and whitespace, a `[...]`
 * kept whole. So `web:db` is two terms and `db[1:3]` one, but also `web:80` one (host `web`,
 * port 80, as Ansible reads it) — commas avoid all that.
 */


/** parse_address(text, allow_ranges=True) succeeds: the text is one host, maybe with ranges and a port. */
function isAddress(text) {
    return parseAddress(text) !== null;
}
const SPACE = new RegExp(`^[${regex_PY_SPACE}]+|[${regex_PY_SPACE}]+$`, 'gu');
const TERM = new RegExp(`(?:[^${regex_PY_SPACE}:\\[\\]]|\\[[^\\]]*\\])+`, 'gu');
/** Python's str.strip(). */
const pyStrip = (s) => s.replace(SPACE, '');
/** split_host_pattern: the terms, stripped, empty ones dropped. */
function splitHostPattern(pattern) {
    let terms;
    if (pattern.includes(','))
        terms = pattern.split(',');
    else if (isAddress(pattern))
        terms = [pattern];
    else
        terms = pattern.match(TERM) ?? [];
    return terms.map(pyStrip).filter((t) => t !== '');
}
/**
 * order_patterns: unions first, then every `&term`, then every `!term`, each kind in the order
 * written; with no union at all, the union is `all`.
 */
function orderPatterns(terms) {
    const union = terms.filter((t) => t !== '' && t[0] !== '&' && t[0] !== '!');
    const and = terms.filter((t) => t[0] === '&');
    const not = terms.filter((t) => t[0] === '!');
    return [...(union.length > 0 ? union : ['all']), ...and, ...not];
}

;// CONCATENATED MODULE: ./lib/engine/inventory/pattern.js
/**
 * Selecting hosts with an Ansible host pattern, as ansible-core's InventoryManager does
 * (get_hosts -> _evaluate_patterns -> _match_one_pattern -> _enumerate_matches):
 *
 *  - terms in order_patterns order: unions, then `&`, then `!` (split.ts);
 *  - a term that is exactly a host's name is that host (checked first, so a name that is both a
 *    host and a group means the host here, but the group after `&` or `!`, as in Ansible);
 *  - otherwise the term (without `&`/`!` and its `[i]` / `[i:j]` subscript) is matched against
 *    every group name, `all` and `ungrouped` included, then against host names too when no group
 *    matched or it is a `~regex` or holds one of `. ? * [`. `~regex` is Python's re.match
 *    (regex.ts), anything else fnmatch (glob.ts): a plain name matches itself only;
 *  - the subscript picks from that term's matches (duplicates included, as in Ansible);
 *  - a host appears once, where first selected.
 *
 * Not as Ansible: a `localhost` / `127.0.0.1` / `::1` term that the inventory lacks does not
 * create Ansible's implicit local host (it runs without SSH); it matches nothing.
 */






// ansible-core PATTERN_WITH_SUBSCRIPT: `expr[i]`, `expr[i:j]`, `expr[i:]`, `expr[i-j]`.
const SUBSCRIPT = /^([^\n]+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/u;
const LOCALHOST = new Set(['localhost', '127.0.0.1', '::1']);
function matcher(expr) {
    if (expr.startsWith('~'))
        return pythonRegExp(expr.slice(1));
    try {
        return globRegExp(expr);
    }
    catch {
        throw new InventoryError(`host pattern ${(0,parse/* quote */.hD)(expr)} is not a valid wildcard pattern`);
    }
}
/** _apply_subscript: Python indexing and slicing; one index out of range is an error. */
function applySubscript(hosts, text, start, end) {
    if (hosts.length === 0)
        return hosts;
    if (end !== undefined && end !== 0)
        return hosts.slice(start, (end === -1 ? hosts.length - 1 : end) + 1);
    const i = start < 0 ? hosts.length + start : start;
    if (i < 0 || i >= hosts.length) {
        throw new InventoryError(`no host matches the subscripted host pattern ${(0,parse/* quote */.hD)(text)}: it has ${hosts.length} host${hosts.length === 1 ? '' : 's'}, so the index must be from 0 to ${hosts.length - 1} (or -${hosts.length} to -1)`);
    }
    return [hosts[i]];
}
/** _match_one_pattern: the term's groups, hosts and resulting host list (with duplicates). */
function matchOne(inv, text, body, warnings) {
    if (body === '')
        throw new InventoryError(`host pattern term ${(0,parse/* quote */.hD)(text)} has nothing after the ${text}; write a host or group name after it (e.g. ${text}canary)`);
    let expr = body;
    let sub;
    const m = body.startsWith('~') ? null : SUBSCRIPT.exec(body);
    if (m) {
        expr = m[1];
        if (m[2] !== undefined)
            sub = [Number(m[2]), undefined];
        else
            sub = [Number(m[3]), m[5] === '' ? -1 : Number(m[5])];
        if (m[4] === '-')
            warnings.push(`host pattern ${(0,parse/* quote */.hD)(text)}: use [x:y] inclusive subscripts instead of [x-y]`);
    }
    const re = matcher(expr);
    const groups = [...inv.groups.keys()].filter((g) => re.test(g));
    const hosts = groups.flatMap((g) => groupHosts(inv, g));
    let hostNames = [];
    if (groups.length === 0 || expr.startsWith('~') || /[.?*[]/.test(expr)) {
        hostNames = [...inv.hosts.keys()].filter((h) => re.test(h));
        hosts.push(...hostNames);
    }
    if (hosts.length === 0 && groups.length === 0 && expr !== 'all') {
        const local = LOCALHOST.has(expr) ? " (Ansible's implicit localhost is not used here: list the host in the inventory)" : '';
        warnings.push(`host pattern term ${(0,parse/* quote */.hD)(body)} matches no group or host; it is ignored${local}`);
    }
    return { groups, hostNames, hosts: sub ? applySubscript(hosts, body, sub[0], sub[1]) : hosts };
}
/** Evaluates the pattern; an empty result is not an error here (see selectHosts). */
function evaluatePattern(inv, pattern) {
    // The selected hosts in order, each once (a Set keeps insertion order).
    let selected = new Set();
    const terms = [];
    const warnings = [];
    for (const text of orderPatterns(splitHostPattern(pattern))) {
        if (inv.hosts.has(text)) {
            terms.push({ text, op: 'union', host: text, groups: [], hostNames: [], hosts: [text] });
            selected.add(text);
            continue;
        }
        const op = text[0] === '&' ? 'and' : text[0] === '!' ? 'not' : 'union';
        const term = { text, op, ...matchOne(inv, text, op === 'union' ? text : text.slice(1), warnings) };
        terms.push(term);
        if (op === 'union') {
            for (const h of term.hosts)
                selected.add(h);
        }
        else {
            const these = new Set(term.hosts);
            selected = new Set([...selected].filter((h) => these.has(h) === (op === 'and')));
        }
    }
    return { hosts: [...selected], terms, warnings };
}
/** The selection, or an error naming the pattern and the inventory's groups when it selects no host. */
function pattern_select(inv, pattern) {
    const selection = evaluatePattern(inv, pattern);
    if (selection.hosts.length > 0)
        return selection;
    const names = [...inv.groups.keys()].filter((g) => g !== 'all');
    const shown = names.length > 40 ? `${names.slice(0, 40).join(', ')} and ${names.length - 40} more` : names.join(', ');
    const local = splitHostPattern(pattern).some((t) => LOCALHOST.has(t.replace(/^[&!]/, '')) && !inv.hosts.has(t.replace(/^[&!]/, '')));
    throw new InventoryError(`host pattern ${(0,parse/* quote */.hD)(pattern)} selects no host of the inventory` +
        (inv.hosts.size === 0 ? ', which has no hosts' : `; its groups are: ${shown || '(none but all)'}`) +
        (local ? ". Ansible's implicit localhost is not used here: list it in the inventory" : ''));
}
/** The host names the pattern selects, in Ansible's order (ansible PATTERN --list-hosts). */
function selectHosts(inv, pattern) {
    return pattern_select(inv, pattern).hosts;
}

;// CONCATENATED MODULE: ./lib/engine/inventory/batch.js
/**
 * `batch-by: group`: the selected hosts cut into one run of hosts per group, so that a batch
 * never mixes groups. A batch's group is always one that lists its hosts directly:
 *
 *  - the union terms of the pattern are taken in the order written (`&` and `!` terms only
 *    filter, they name no batch; with no union the term is `all`);
 *  - a term that matches groups (a name, a wildcard, a regex, `all`) takes, for each matched
 *    group in inventory order, the groups of that group's walk (itself, then its descendants in
 *    Ansible's host order, order.ts): `web` is one batch group, `prod` with children `web` and
 *    `db` gives `web` then `db` (and `prod` first if it lists hosts itself), `all` gives every
 *    group in inventory order. `all` itself is never a batch group: its hosts are in `ungrouped`
 *    or another group too;
 *  - a term that names a host (exactly, or a wildcard or regex that matched host names) puts
 *    the host in its first own group (the first group listing it in the walk from `all`);
 *  - a host goes with the first group it meets this way; a group is one batch, placed where it
 *    was first met; within it the hosts keep their order in `selected`.
 *
 * Walking the groups in host order means that for `all` the batches, put end to end, are
 * Ansible's host order, but for a host listed under `all` itself and in another group (it comes
 * first in the host order, and with that group here).
 */


/**
 * The hosts of `selected` (the hosts the pattern selected, maybe narrowed down, e.g. to a
 * shard) group by group, in the order the pattern names the groups.
 */
function batchByGroup(inv, pattern, selected) {
    const wanted = new Set(selected);
    const groupOfHost = new Map();
    const own = firstOwnGroups(inv);
    const assign = (host, group, claimed) => {
        if (wanted.has(host) && !groupOfHost.has(host) && (claimed === undefined || claimed.has(host)))
            groupOfHost.set(host, group);
    };
    for (const term of evaluatePattern(inv, pattern).terms) {
        if (term.op !== 'union')
            continue;
        // A term claims only the hosts it selected itself (after its subscript).
        const claimed = new Set(term.hosts);
        for (const matched of term.groups) {
            for (const group of walkGroups(inv, matched))
                if (group.name !== 'all')
                    for (const host of group.hosts)
                        assign(host, group.name, claimed);
        }
        for (const host of [...(term.host !== undefined ? [term.host] : []), ...term.hostNames])
            assign(host, own.get(host) ?? 'all', claimed);
    }
    // A host no term claims (not selected by this pattern: a caller's mistake) goes with its first own group.
    for (const host of selected)
        assign(host, own.get(host) ?? 'all', undefined);
    const batches = new Map();
    for (const group of groupOfHost.values())
        if (!batches.has(group))
            batches.set(group, []);
    for (const host of selected)
        batches.get(groupOfHost.get(host)).push(host);
    return [...batches].map(([group, hosts]) => ({ group, hosts }));
}

;// CONCATENATED MODULE: ./lib/engine/inventory/graph.js
/**
 * What the semantics read from the group graph again and again — each group's parents and
 * depth, each host's groups — worked out once per Inventory object (the model is read-only once
 * parsed), so that vars and group_names for thousands of hosts stay fast.
 */


const graphs = new WeakMap();
/**
 * Each group's depth: the longest path from `all` (Group.add_child_group keeps
 * child.depth >= parent.depth + 1, so that is what ansible-core ends with). A loop is an error.
 */
function depthsOf(inv, parents) {
    const depths = new Map();
    const onPath = new Set();
    const depth = (name) => {
        const known = depths.get(name);
        if (known !== undefined)
            return known;
        if (onPath.has(name))
            throw new InventoryError(`group ${(0,parse/* quote */.hD)(name)} is its own descendant through its children; a group cannot contain itself`);
        onPath.add(name);
        const ps = parents.get(name) ?? [];
        // A parentless group other than `all` is all's child once reconciled: depth 1.
        const d = name === 'all' ? 0 : ps.length === 0 ? 1 : 1 + Math.max(...ps.map(depth));
        onPath.delete(name);
        depths.set(name, d);
        return d;
    };
    for (const name of inv.groups.keys())
        depth(name);
    return depths;
}
function graphOf(inv) {
    let graph = graphs.get(inv);
    if (graph)
        return graph;
    const parents = new Map();
    const listedIn = new Map();
    for (const group of inv.groups.values())
        parents.set(group.name, []);
    for (const group of inv.groups.values()) {
        for (const child of group.children)
            parents.get(child)?.push(group.name);
        for (const host of group.hosts) {
            const list = listedIn.get(host);
            if (list)
                list.push(group.name);
            else
                listedIn.set(host, [group.name]);
        }
    }
    graph = { parents, depths: depthsOf(inv, parents), listedIn, ancestors: new Map() };
    graphs.set(inv, graph);
    return graph;
}
function groupDepths(inv) {
    return graphOf(inv).depths;
}
function ancestorsOf(graph, name) {
    let found = graph.ancestors.get(name);
    if (found)
        return found;
    found = new Set([name]);
    for (const p of graph.parents.get(name) ?? [])
        for (const a of ancestorsOf(graph, p))
            found.add(a);
    graph.ancestors.set(name, found);
    return found;
}
/** The groups a host belongs to: those that list it, and all their ancestors (Host.get_groups, as a set). */
function hostGroups(inv, host) {
    if (!inv.hosts.has(host))
        throw new InventoryError(`the inventory has no host ${(0,parse/* quote */.hD)(host)}`);
    const graph = graphOf(inv);
    const found = new Set();
    for (const g of graph.listedIn.get(host) ?? [])
        for (const a of ancestorsOf(graph, g))
            found.add(a);
    if (inv.groups.has('all'))
        found.add('all');
    return [...found];
}

;// CONCATENATED MODULE: ./lib/engine/inventory/vars.js
/**
 * A host's vars with Ansible's precedence (ansible-core VariableManager.get_vars with the
 * default VARIABLE_PRECEDENCE and hash_behaviour `replace`): the `all` group's vars, then the
 * host's other groups sorted by (depth, ansible_group_priority, name) ascending (helpers.py
 * sort_groups / get_group_vars), then the host's own vars; a later source replaces a key
 * whole (combine_vars: no deep merge). Also Ansible's `group_names`.
 */



const PRIORITY = 'ansible_group_priority';
/** Python compares str by code point; JS's `<` compares UTF-16 units (differs past U+FFFF). */
function comparePython(a, b) {
    const x = Array.from(a, (c) => c.codePointAt(0));
    const y = Array.from(b, (c) => c.codePointAt(0));
    for (let i = 0; i < Math.min(x.length, y.length); i++)
        if (x[i] !== y[i])
            return x[i] - y[i];
    return x.length - y.length;
}
/**
 * ansible_group_priority as ansible-core reads it: int(value), default 1. Python's int() takes a
 * whole number or a string of one ("10", " -2 ", "1_000") and truncates a float; on anything
 * else ansible-core stops with a Python error, so we refuse it with the group and the place.
 */
function groupPriority(group) {
    const v = group.vars.get(PRIORITY);
    if (v === undefined)
        return 1;
    const { value } = v;
    if (typeof value === 'boolean')
        return value ? 1 : 0;
    if (typeof value === 'number' && Number.isFinite(value))
        return Math.trunc(value);
    if (typeof value === 'string' && /^\s*[+-]?\d+(?:_\d+)*\s*$/.test(value))
        return Number(value.replace(/_/g, ''));
    throw new InventoryError(`${v.where}: ${PRIORITY} of group ${(0,parse/* quote */.hD)(group.name)} is ${(0,parse/* clip */.$Q)(JSON.stringify(value))}; it must be a whole number (higher wins among groups of the same depth)`);
}
/** Ansible's `group_names`: the host's groups but `all`, sorted (`ungrouped` is among them for an ungrouped host, as in ansible-core). */
function groupNames(inv, host) {
    return hostGroups(inv, host)
        .filter((g) => g !== 'all')
        .sort(comparePython);
}
/** The host's groups but `all` in the order their vars apply (the last one wins): sort_groups. */
function varsOrder(inv, host) {
    const depths = groupDepths(inv);
    const keyed = hostGroups(inv, host)
        .filter((g) => g !== 'all')
        .map((name) => ({ name, depth: depths.get(name), priority: groupPriority(inv.groups.get(name)) }));
    keyed.sort((a, b) => a.depth - b.depth || a.priority - b.priority || comparePython(a.name, b.name));
    return keyed.map((k) => k.name);
}
/**
 * The host's merged vars (what `ansible-inventory --list` shows as its hostvars), each with the
 * place it was written. ansible_group_priority is not a var for Ansible (Group.set_variable
 * keeps it aside as the priority), so it is left out of the groups' vars.
 */
function hostVars(inv, host) {
    const merged = new Map();
    const all = inv.groups.get('all');
    for (const name of [...(all ? ['all'] : []), ...varsOrder(inv, host)]) {
        for (const [key, v] of inv.groups.get(name).vars)
            if (key !== PRIORITY)
                merged.set(key, v);
    }
    for (const [key, v] of inv.hosts.get(host).vars)
        merged.set(key, v);
    return merged;
}

;// CONCATENATED MODULE: ./lib/engine/inventory/connection.js
/**
 * What a host's merged vars say about reaching it: address, port, user, its key (a file on the
 * runner, or an environment variable), its password (an environment variable only), its
 * bastion, and the vars it passes to the command. Pure: reading files and the environment is
 * the action's. Jinja is not evaluated: in a var used here it is an error naming the var.
 */


/** Vars this reads (the rest is ignored; the ansible_* among them are named in one warning). */
const USED_VARS = new Set([
    'ansible_host',
    'ansible_ssh_host',
    'ansible_port',
    'ansible_ssh_port',
    'ansible_user',
    'ansible_ssh_user',
    'ansible_ssh_private_key_file',
    'ansible_private_key_file',
    'ansible_ssh_common_args',
    'ansible_group_priority',
    'ssh_fanout_key_env',
    'ssh_fanout_password_env',
    'ssh_fanout_jump_host',
    'ssh_fanout_env',
]);
const PASSWORD_VARS = ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The connection settings of host `name` from its merged vars. Throws InventoryError naming the var and where it was set. */
function hostConnection(name, vars) {
    for (const v of PASSWORD_VARS) {
        const found = vars.get(v);
        if (found) {
            throw new InventoryError(`${found.where}: ${v} is set for ${name}; a password does not belong in the repository. ` +
                'Put it in a secret, map it to an environment variable in the workflow (env: { WEB_PASSWORD: ${{ secrets.WEB_PASSWORD }} }), and name that variable in ssh_fanout_password_env');
        }
    }
    const text = (key, alias) => {
        const v = vars.get(key) ?? (alias ? vars.get(alias) : undefined);
        if (!v)
            return null;
        return scalar(alias && !vars.has(key) ? alias : key, v);
    };
    const portText = text('ansible_port', 'ansible_ssh_port');
    const port = portText === null ? null : Number(portText);
    if (port !== null && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
        const v = vars.get('ansible_port') ?? vars.get('ansible_ssh_port');
        throw new InventoryError(`${v.where}: the port of ${name} is ${JSON.stringify(portText)}; give a whole number from 1 to 65535`);
    }
    const common = text('ansible_ssh_common_args');
    const { jump: argsJump, ignored } = common === null ? { jump: null, ignored: [] } : proxyJump(common, vars.get('ansible_ssh_common_args').where);
    return {
        address: text('ansible_host', 'ansible_ssh_host') ?? name,
        port,
        user: text('ansible_user', 'ansible_ssh_user'),
        keyFile: text('ansible_ssh_private_key_file', 'ansible_private_key_file'),
        keyEnv: envName(vars, 'ssh_fanout_key_env'),
        passwordEnv: envName(vars, 'ssh_fanout_password_env'),
        jump: text('ssh_fanout_jump_host') ?? argsJump,
        env: listedEnv(name, vars),
        ignoredArgs: ignored,
    };
}
/** A var used as text: strings as they are, numbers in decimal, booleans as true/false; anything else, or Jinja, is an error. */
function scalar(key, v) {
    const value = asEnvText(v.value);
    if (value === null)
        throw new InventoryError(`${v.where}: ${key} is ${describe(v.value)}; give a string, a number or a boolean`);
    if (/\{\{|\{%/.test(value)) {
        throw new InventoryError(`${v.where}: ${key} uses Jinja (${JSON.stringify(value.slice(0, 60))}), which ssh-fanout does not evaluate; write the value itself`);
    }
    return value;
}
function asEnvText(value) {
    if (typeof value === 'string')
        return value;
    if (typeof value === 'number')
        return Number.isFinite(value) ? String(value) : null;
    if (typeof value === 'boolean')
        return value ? 'true' : 'false';
    return null;
}
function describe(value) {
    if (value === null)
        return 'empty (null)';
    return Array.isArray(value) ? 'a list' : 'a mapping';
}
function envName(vars, key) {
    const v = vars.get(key);
    if (!v)
        return null;
    const name = scalar(key, v);
    if (!ENV_NAME.test(name))
        throw new InventoryError(`${v.where}: ${key} is ${JSON.stringify(name)}, not an environment variable name (letters, digits and _)`);
    return name;
}
/** ssh_fanout_env: the names of vars passed to the command; each must be set for the host. */
function listedEnv(host, vars) {
    const list = vars.get('ssh_fanout_env');
    if (!list)
        return [];
    const names = Array.isArray(list.value) ? list.value : typeof list.value === 'string' ? list.value.split(/[\s,]+/).filter(Boolean) : null;
    if (names === null || names.some((n) => typeof n !== 'string')) {
        throw new InventoryError(`${list.where}: ssh_fanout_env must be a list of var names, e.g. [DEPLOY_ROLE, REGION]`);
    }
    return names.map((name) => {
        if (!ENV_NAME.test(name))
            throw new InventoryError(`${list.where}: ssh_fanout_env lists ${JSON.stringify(name)}, not an environment variable name (letters, digits and _)`);
        if (name === 'SSH_FANOUT_RUN')
            throw new InventoryError(`${list.where}: ssh_fanout_env lists SSH_FANOUT_RUN, which ssh-fanout sets itself; use another name`);
        const v = vars.get(name);
        if (!v)
            throw new InventoryError(`${list.where}: ssh_fanout_env lists ${name}, but ${host} has no var ${name}`);
        return { name, value: scalar(name, v) };
    });
}
/** The bastion of `-J spec` or `-o ProxyJump=spec` in ansible_ssh_common_args, and the other options (ignored). */
function proxyJump(args, where) {
    // As ansible-core's ssh plugin splits them (Python's shlex.split).
    const words = shlexSplit(args);
    let jump = null;
    const ignored = [];
    for (let i = 0; i < words.length; i += 1) {
        const w = words[i];
        let spec;
        if (w === '-J')
            spec = words[++i] ?? '';
        else if (w.startsWith('-J'))
            spec = w.slice(2);
        else if (w === '-o' && /^ProxyJump[= ]/i.test(words[i + 1] ?? ''))
            spec = words[++i].replace(/^ProxyJump[= ]\s*/i, '');
        else if (/^-oProxyJump[= ]/i.test(w))
            spec = w.replace(/^-oProxyJump[= ]\s*/i, '');
        else {
            if (w === '-o' && words[i + 1] !== undefined)
                ignored.push(`-o ${words[++i]}`);
            else
                ignored.push(w);
            continue;
        }
        if (spec === '' || spec.includes(',')) {
            throw new InventoryError(`${where}: ansible_ssh_common_args names ${spec === '' ? 'no bastion after -J' : `several bastions (${spec})`}; give one [user@]host[:port]`);
        }
        jump = spec.replace(/^ssh:\/\//, '');
    }
    return { jump, ignored };
}

// EXTERNAL MODULE: ./lib/engine/targets/hosts.js
var hosts = __webpack_require__(8372);
// EXTERNAL MODULE: ./lib/engine/targets/jump-target.js
var jump_target = __webpack_require__(6813);
// EXTERNAL MODULE: ./lib/action/credentials.js + 2 modules
var credentials = __webpack_require__(5214);
// EXTERNAL MODULE: ./lib/action/input-error.js
var input_error = __webpack_require__(2617);
// EXTERNAL MODULE: ./lib/action/local-files.js
var local_files = __webpack_require__(5051);
;// CONCATENATED MODULE: ./lib/action/inventory.js
/**
 * The `inventory`, `select` and `batch-by` inputs: an Ansible inventory (text, or a file in the
 * workspace) read as ansible-core reads it, the hosts `select` names, each with its own address,
 * port, user, key or password (from files on the runner and environment variables the workflow
 * maps from secrets), bastion and variables. Everything is checked before any host is contacted.
 */













const MAX_INVENTORY_BYTES = 8 * 1024 * 1024;
const MAX_KEY_BYTES = 64 * 1024;
function readInventory(ctx) {
    if (ctx.batchBy !== '' && ctx.batchBy !== 'group')
        throw new input_error/* InputError */.d('batch-by', `${(0,parse/* quote */.hD)(ctx.batchBy)} is not accepted; give group (batches never mix groups), or leave it empty`);
    const { text, source } = inventoryText(ctx);
    const inv = guarded('inventory', () => parseInventory(text, source));
    const selected = guarded('select', () => selectHosts(inv, ctx.select));
    if (selected.length > hosts/* MAX_HOSTS */.pS)
        throw new input_error/* InputError */.d('select', `selects ${selected.length} hosts; at most ${hosts/* MAX_HOSTS */.pS} are allowed, so split them across several steps`);
    const batches = ctx.batchBy === 'group' ? batchByGroup(inv, ctx.select, selected) : null;
    const names = batches ? batches.flatMap((b) => b.hosts) : selected;
    const keys = new KeyReader(ctx);
    const bastions = new Map();
    const ignored = new Set(inv.ignored);
    const targets = names.map((name) => {
        const vars = hostVars(inv, name);
        for (const key of vars.keys())
            if ((key.startsWith('ansible_') || key.startsWith('ssh_fanout_')) && !USED_VARS.has(key))
                ignored.add(key);
        const conn = guarded('inventory', () => hostConnection(name, vars));
        for (const arg of conn.ignoredArgs)
            ignored.add(`ansible_ssh_common_args ${arg}`);
        const username = conn.user ?? ctx.username;
        if (username === '')
            throw new input_error/* InputError */.d('username', `is empty and ${name} has no ansible_user in the inventory; set ansible_user for it (or its group), or the username input`);
        const jump = conn.jump === null
            ? undefined
            : bastionKey(guarded('inventory', () => bastionOf(conn.jump, name, ctx.username)), bastions);
        const target = {
            host: conn.address.replace(/^\[(.*)\]$/, '$1'),
            port: conn.port ?? ctx.port,
            username,
            label: name,
            inventory: { name, groups: groupNames(inv, name), credentials: keys.credentialsOf(name, conn), env: conn.env, jump },
        };
        return target;
    });
    return {
        targets,
        batchGroups: batches ? batches.flatMap((b) => b.hosts.map(() => b.group)) : null,
        bastions,
        secrets: keys.secrets,
        warning: ignored.size > 0
            ? `inventory: not used by ssh-fanout, ignored: ${[...ignored].sort().slice(0, 30).join(', ')}${ignored.size > 30 ? `, and ${ignored.size - 30} more` : ''}`
            : null,
    };
}
/** The inventory as given: a single line naming a file (in the workspace, or absolute) is read from it; else the text itself. */
function inventoryText(ctx) {
    const value = ctx.inventory.trim();
    const oneLine = !/[\r\n]/.test(value);
    const looksLikePath = oneLine && /^[^\s=]+$/.test(value) && (/[/\\]/.test(value) || /\.(ya?ml|ini|cfg|txt|hosts)$/i.test(value) || value === 'hosts' || value === 'inventory');
    if (!looksLikePath)
        return { text: ctx.inventory, source: 'inventory' };
    const bytes = guarded('inventory', () => (0,local_files/* loadWorkspaceFile */.MD)(value, ctx.workspace, MAX_INVENTORY_BYTES, {
        example: 'give the path of an inventory in the repository (check it out first with actions/checkout), e.g. deploy/inventory.yml, or the inventory text itself',
        what: 'an Ansible inventory (YAML or INI)',
        tooBig: '8 MiB',
    }));
    return { text: bytes.toString('utf8'), source: value };
}
function guarded(input, fn) {
    try {
        return fn();
    }
    catch (err) {
        if (err instanceof input_error/* InputError */.d)
            throw err;
        if (err instanceof InventoryError || err instanceof Error)
            throw new input_error/* InputError */.d(input, err.message);
        throw err;
    }
}
function bastionOf(spec, host, username) {
    try {
        return (0,jump_target/* parseJumpHost */._)(spec, username);
    }
    catch (err) {
        throw new InventoryError(`the bastion of ${host} (${JSON.stringify(spec)}): ${err.message}`);
    }
}
/** Two spellings of one bastion (`bastion` and `deploy@bastion:22` with username deploy) share one key, so one session. */
function bastionKey(bastion, bastions) {
    const key = `${bastion.username}@${bastion.host}:${bastion.port}`;
    if (!bastions.has(key))
        bastions.set(key, { ...bastion, label: bastion.port === 22 ? `${bastion.username}@${bastion.host}` : bastion.label });
    return key;
}
/** Each host's own key (ssh_fanout_key_env over ansible_ssh_private_key_file) and password (ssh_fanout_password_env), read once each. */
class KeyReader {
    ctx;
    secrets = [];
    parsed = new Map();
    constructor(ctx) {
        this.ctx = ctx;
    }
    credentialsOf(host, conn) {
        const key = conn.keyEnv ? this.fromEnv(host, conn.keyEnv) : conn.keyFile ? this.fromFile(host, conn.keyFile) : undefined;
        const password = conn.passwordEnv ? this.envValue(host, 'ssh_fanout_password_env', conn.passwordEnv) : undefined;
        if (!key && password === undefined)
            return undefined;
        return { ...(key ? { privateKey: key } : {}), ...(password !== undefined ? { password } : {}) };
    }
    envValue(host, varName, name) {
        const value = this.ctx.env[name];
        if (value === undefined || value.trim() === '') {
            throw new input_error/* InputError */.d('inventory', `${host}: ${varName} names ${name}, which is not set (or empty) in the step's environment; map it from a secret in the workflow: env: { ${name}: \${{ secrets.${name} }} }`);
        }
        for (const line of value.split(/\r?\n/))
            if (line.trim() !== '' && !this.secrets.includes(line.trim()))
                this.secrets.push(line.trim());
        if (!this.secrets.includes(value))
            this.secrets.push(value);
        return value;
    }
    fromEnv(host, name) {
        const cached = this.parsed.get(`env:${name}`);
        if (cached)
            return cached;
        const key = this.read(host, `${this.envValue(host, 'ssh_fanout_key_env', name).trim()}\n`, `the key in ${name}`);
        this.parsed.set(`env:${name}`, key);
        return key;
    }
    fromFile(host, path) {
        const full = path === '~' || path.startsWith('~/') ? (0,external_node_os_.homedir)() + path.slice(1) : path;
        const cached = this.parsed.get(`file:${full}`);
        if (cached)
            return cached;
        const bytes = guarded('inventory', () => (0,local_files/* loadWorkspaceFile */.MD)(full, this.ctx.workspace, MAX_KEY_BYTES, {
            example: `fix ansible_ssh_private_key_file of ${host}: give the path of a private key on the runner (written there by an earlier step), or use ssh_fanout_key_env`,
            what: 'a private key file',
            tooBig: '64 kB: it is not a private key',
        }));
        const key = this.read(host, bytes.toString('utf8'), `the key file ${path}`);
        this.parsed.set(`file:${full}`, key);
        return key;
    }
    read(host, text, what) {
        try {
            return (0,credentials/* readPrivateKey */.$)(text, this.ctx.passphrase, 'inventory');
        }
        catch (err) {
            throw new input_error/* InputError */.d('inventory', `${host}: ${what}: ${err.message.replace(/^Input "[^"]+": /, '')}`);
        }
    }
}


/***/ })

};
