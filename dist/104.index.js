export const id = 104;
export const ids = [104];
export const modules = {

/***/ 104:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runReport: () => (/* binding */ runReport)
});

// EXTERNAL MODULE: external "node:fs"
var external_node_fs_ = __webpack_require__(3024);
// EXTERNAL MODULE: external "node:path"
var external_node_path_ = __webpack_require__(6760);
// EXTERNAL MODULE: ./node_modules/@actions/core/lib/core.js + 6 modules
var core = __webpack_require__(6251);
// EXTERNAL MODULE: ./node_modules/@actions/glob/lib/glob.js + 17 modules
var glob = __webpack_require__(6071);
// EXTERNAL MODULE: ./lib/engine/model.js
var model = __webpack_require__(9963);
// EXTERNAL MODULE: ./lib/engine/format.js
var format = __webpack_require__(5615);
// EXTERNAL MODULE: ./lib/engine/parse.js
var parse = __webpack_require__(3773);
// EXTERNAL MODULE: ./lib/action/input-error.js
var input_error = __webpack_require__(2617);
// EXTERNAL MODULE: ./lib/action/log/remote-text.js
var remote_text = __webpack_require__(6821);
// EXTERNAL MODULE: ./lib/action/results/outputs.js
var outputs = __webpack_require__(6597);
// EXTERNAL MODULE: ./lib/action/results/summary.js + 2 modules
var summary = __webpack_require__(6870);
// EXTERNAL MODULE: ./lib/action/results/verdict.js
var verdict = __webpack_require__(9074);
// EXTERNAL MODULE: ./lib/engine/targets/hosts.js
var hosts = __webpack_require__(8372);
// EXTERNAL MODULE: ./lib/engine/targets/rollout.js
var rollout = __webpack_require__(2282);
;// CONCATENATED MODULE: ./lib/action/report/merge.js
/**
 * The merge rules of report-from: the results.json files of a matrix's shards (with the run.json
 * beside each) become one set of host results, in the fleet's host order, and the shards that
 * reported nothing. Pure: reading the files is report.ts's. Throws a plain Error saying which
 * file is wrong and why; the caller makes it a report-from input error.
 */



const STATUSES = new Set([...model/* FAILURE_STATUSES */.Ul, 'success', 'skipped']);
function mergeShards(files) {
    if (files.length === 0)
        throw new Error('matched no results.json file');
    const jobs = files.map(readJob);
    const [first] = jobs;
    for (const job of jobs.slice(1)) {
        const differ = (what, a, b) => new Error(`${first.files.runPath} and ${job.files.runPath} disagree on ${what} (${String(a)} and ${String(b)}): merge the shards of one run only`);
        if (job.run.runId !== first.run.runId)
            throw differ('the run id', first.run.runId, job.run.runId);
        if (job.shard.count !== first.shard.count)
            throw differ('the number of shards', first.shard.count, job.shard.count);
        if (job.run.totalHosts !== first.run.totalHosts)
            throw differ("the fleet's host count", first.run.totalHosts, job.run.totalHosts);
    }
    // A host's place in the fleet: its shard, then its position there; a re-run shard keeps the places.
    const byHost = new Map();
    // Every attempt seen of each host, with its file: the same attempt twice is a mistake even when a later one replaces both.
    const attempts = new Map();
    for (const job of jobs) {
        job.entries.forEach((entry, index) => {
            const key = JSON.stringify([entry.host, entry.address ?? entry.host, entry.port ?? 22, entry.username ?? '']);
            const seenAttempts = attempts.get(key) ?? new Map();
            attempts.set(key, seenAttempts);
            const other = seenAttempts.get(job.run.runAttempt);
            if (other !== undefined) {
                throw new Error(`${other} and ${job.files.resultsPath} both have host ${entry.host} from run attempt ${job.run.runAttempt}: give each shard's files once (the later attempt of a re-run shard replaces the earlier)`);
            }
            seenAttempts.set(job.run.runAttempt, job.files.resultsPath);
            const seen = byHost.get(key);
            if (!seen || job.run.runAttempt > seen.job.run.runAttempt)
                byHost.set(key, { job, entry, index, place: seen?.place ?? [job.shard.index, index] });
        });
    }
    const chosen = [...byHost.values()].sort((a, b) => a.place[0] - b.place[0] || a.place[1] - b.place[1]);
    const results = chosen.map(({ job, entry, index }) => hostResult(entry, job.run, index));
    relabel(results);
    const reported = new Set(jobs.map((j) => j.shard.index));
    const { count } = first.shard;
    const missing = [];
    for (let index = 1; index <= count; index++) {
        if (reported.has(index))
            continue;
        const { start, end } = (0,rollout/* shardBounds */.kK)({ index, count }, first.run.totalHosts);
        missing.push({ shard: `${index}/${count}`, hosts: end - start });
    }
    return { results, totalHosts: first.run.totalHosts, missing };
}
function readJob(files) {
    const run = files.run;
    const bad = (why) => new Error(`${files.runPath} ${why}; it must be the run.json that log-dir writes beside results.json`);
    if (run === null || typeof run !== 'object' || Array.isArray(run))
        throw bad('is not a JSON object');
    if (!(typeof run.totalHosts === 'number' && Number.isSafeInteger(run.totalHosts) && run.totalHosts >= 0))
        throw bad('has no totalHosts');
    if (!(typeof run.runAttempt === 'number' && Number.isSafeInteger(run.runAttempt)))
        throw bad('has no runAttempt');
    if (!(run.shard === null || typeof run.shard === 'string'))
        throw bad('has no shard');
    let shard;
    try {
        shard = (run.shard === null ? null : (0,rollout/* parseShard */.uK)(run.shard)) ?? { index: 1, count: 1 };
    }
    catch (err) {
        throw bad(`has a bad shard: ${err.message}`);
    }
    const record = {
        ...run,
        runId: run.runId ?? null,
        inventory: run.inventory === true,
        changed: Array.isArray(run.changed) ? run.changed : [],
    };
    const entries = files.results;
    if (!Array.isArray(entries))
        throw new Error(`${files.resultsPath} is not a JSON array; give the results.json that log-dir writes`);
    entries.forEach((e, i) => {
        const entry = e;
        if (entry === null || typeof entry !== 'object' || typeof entry.host !== 'string' || !STATUSES.has(entry.status)) {
            throw new Error(`${files.resultsPath}: entry ${i + 1} is not a host's result (it needs host and status); give the results.json that log-dir writes`);
        }
    });
    return { files, run: record, shard, entries: entries };
}
const str = (v) => (typeof v === 'string' ? v : null);
const num = (v) => (typeof v === 'number' ? v : null);
const lines = (v) => (typeof v === 'string' && v !== '' ? v.split('\n') : []);
/** A HostResult as the job had it, rebuilt from its results.json entry (resultEntry in outputs.ts). */
function hostResult(e, run, index) {
    const { inventory } = run;
    const changed = run.changed.includes(index);
    const address = str(e.address) ?? e.host;
    const port = num(e.port) ?? 22;
    const groups = Array.isArray(e.groups) ? e.groups.filter((g) => typeof g === 'string') : [];
    const target = { host: address, port, username: str(e.username) ?? '', label: inventory ? e.host : (0,hosts/* hostLabel */.vy)(address, port) };
    if (inventory)
        target.inventory = { name: e.host, groups };
    const check = e.check;
    const rb = e.rollback;
    const rbLines = rb ? lines(rb.output) : [];
    const rbFailedToRun = rb !== null && (rb?.status === 'error' || rb?.status === 'timeout');
    return {
        target,
        status: e.status,
        exitCode: num(e.exitCode),
        signal: str(e.signal),
        error: str(e.error),
        errorKind: null,
        durationMs: num(e.durationMs) ?? 0,
        tail: lines(e.output),
        attempts: num(e.attempts) ?? 0,
        batch: num(e.batch),
        hostKey: null,
        preflight: e.preflight === 'ok' || e.preflight === 'failed' ? e.preflight : null,
        changed,
        check: check
            ? {
                attempts: num(check.attempts) ?? 0,
                // results.json does not keep how many attempts check-timeout allowed; run.json does (files from before it: the attempts made).
                planned: run.checkPlanned ?? num(check.attempts) ?? 0,
                exitCode: num(check.exitCode),
                durationMs: num(check.durationMs) ?? 0,
                soak: check.soak === 'ok' || check.soak === 'failed' ? check.soak : null,
                log: [],
            }
            : null,
        rollback: rb
            ? {
                status: rb.status,
                exitCode: num(rb.exitCode),
                durationMs: num(rb.durationMs) ?? 0,
                // A rollback that did not run to an exit status has its reason as the output's last line.
                tail: rbFailedToRun ? rbLines.slice(0, -1) : rbLines,
                error: rbFailedToRun ? (rbLines.at(-1) ?? rb.status) : null,
            }
            : null,
    };
}
/** As resolveTargets: several users on one host and port each get `user@` in their labels (inventory names stay). */
function relabel(results) {
    const place = (t) => JSON.stringify([t.host, t.port]);
    const sharing = new Map();
    const plain = results.map((r) => r.target).filter((t) => !t.inventory);
    for (const t of plain)
        sharing.set(place(t), (sharing.get(place(t)) ?? 0) + 1);
    for (const t of plain)
        if (sharing.get(place(t)) > 1)
            t.label = `${t.username}@${t.label}`;
}

;// CONCATENATED MODULE: ./lib/action/report/report.js
/**
 * The report-from mode: reads the results.json (and run.json) files earlier jobs wrote with
 * log-dir, merges them (merge.ts) and gives one job summary, one set of outputs and one verdict
 * under max-failures, with the same code a run over hosts uses. No host is contacted.
 */













/** Returns true when the step succeeds. Throws InputError for files that cannot be merged. `secrets`: the mask input's, masked again. */
async function runReport(inputs, secrets = []) {
    const paths = await findResults(inputs);
    const files = paths.map((path) => readShard(path, inputs.workspace));
    let merged;
    try {
        merged = mergeShards(files);
    }
    catch (err) {
        throw new input_error/* InputError */.d('report-from', `${err.message} (patterns: ${inputs.patterns.join(', ')})`);
    }
    const { results, missing, totalHosts } = merged;
    const unreported = missing.reduce((n, m) => n + m.hosts, 0);
    core/* info */.pq((0,remote_text/* inert */.tJ)(`ssh-fanout: report-from: ${files.length} results.json ${files.length === 1 ? 'file' : 'files'} for a fleet of ${(0,format/* countHosts */.n)(totalHosts)}: ` +
        `${(0,format/* countHosts */.n)(results.length)} reported${missing.length > 0 ? `, ${missing.map((m) => `shard ${m.shard}`).join(', ')} reported nothing` : ''}`));
    // One annotation for all of them: GitHub shows at most 10 errors per step.
    if (missing.length > 0) {
        const names = missing.map((m) => `shard ${m.shard} reported nothing (${(0,format/* countHosts */.n)(m.hosts)})`).join('; ');
        core/* error */.z3(`${names}: ${(0,format/* countHosts */.n)(unreported)} counted as failed`, {
            title: `ssh-fanout: ${missing.length} missing ${missing.length === 1 ? 'shard' : 'shards'}`,
        });
    }
    const failures = results.filter((r) => (0,model/* isFailure */.N6)(r.status)).length + unreported;
    const run = {
        results,
        failures,
        thresholdExceeded: (0,parse/* thresholdExceeded */.JA)(inputs.maxFailures, failures, results.length + unreported),
        stoppedEarly: false,
        cancelled: false,
        preflight: null,
        rollback: null,
    };
    const v = (0,verdict/* verdict */.WJ)(run, inputs.maxFailures, undefined, missing);
    const trimmed = (0,outputs/* setOutputs */.n0)(results, secrets, missing);
    (0,verdict/* annotateFailures */.o)(run, v.failed, missing.length > 0 ? 1 : 0);
    await (0,summary/* writeSummary */.Sy)(run, v, { ...trimmed, hostKeysShown: false, secrets, missing });
    const message = (0,remote_text/* inert */.tJ)(v.message);
    if (v.failed)
        core/* setFailed */.C1(message);
    else if (failures > 0)
        core/* warning */.$e(message);
    else
        core/* info */.pq(message);
    return !v.failed;
}
/** Every results.json the patterns match, in path order (so a run's verdict never depends on the file system's order). */
async function findResults(inputs) {
    if (inputs.patterns.length === 0)
        throw new input_error/* InputError */.d('report-from', 'has no pattern; give globs of results.json files, one per line, e.g. shards/*/results.json');
    const lines = inputs.patterns.map((p) => {
        const negate = p.startsWith('!');
        const rest = negate ? p.slice(1).trim() : p;
        return `${negate ? '!' : ''}${(0,external_node_path_.isAbsolute)(rest) ? rest : `${globEscape(inputs.workspace)}/${rest}`}`;
    });
    const globber = await glob/* create */.v(lines.join('\n'), { matchDirectories: false, implicitDescendants: true, followSymbolicLinks: true });
    const found = (await globber.glob()).filter((p) => (0,external_node_path_.basename)(p) === 'results.json').sort();
    if (found.length === 0) {
        throw new input_error/* InputError */.d('report-from', `matched no results.json file in ${inputs.workspace} (patterns: ${inputs.patterns.join(', ')}); give globs of the files log-dir wrote in earlier jobs, relative to the workspace, e.g. shards/*/results.json`);
    }
    return found;
}
/** A job's results.json and the run.json beside it, parsed; a file missing or not JSON is an input error naming it. */
function readShard(resultsPath, workspace) {
    const shown = (p) => ((0,external_node_path_.relative)(workspace, p).startsWith('..') ? p : (0,external_node_path_.relative)(workspace, p));
    const runPath = (0,external_node_path_.join)((0,external_node_path_.dirname)(resultsPath), 'run.json');
    const parse = (path, what) => {
        let text;
        try {
            text = (0,external_node_fs_.readFileSync)(path, 'utf8');
        }
        catch (err) {
            const code = err.code;
            if (code === 'ENOENT' && path === runPath)
                throw new input_error/* InputError */.d('report-from', `${shown(resultsPath)} has no run.json beside it (${shown(path)}); ${what}`);
            throw new input_error/* InputError */.d('report-from', `${shown(path)} cannot be read (${code ?? err.message})`);
        }
        try {
            return JSON.parse(text);
        }
        catch (err) {
            throw new input_error/* InputError */.d('report-from', `${shown(path)} is not JSON (${err.message}); ${what}`);
        }
    };
    const what = 'give the files log-dir writes (results.json and run.json), downloaded as they were uploaded';
    return { resultsPath: shown(resultsPath), runPath: shown(runPath), results: parse(resultsPath, what), run: parse(runPath, what) };
}
/** @actions/glob's escaping of literal text (Pattern.globEscape), for the workspace path. */
function globEscape(s) {
    return (process.platform === 'win32' ? s : s.replace(/\\/g, '\\\\'))
        .replace(/(\[)(?=[^/]+\])/g, '[[]')
        .replace(/\?/g, '[?]')
        .replace(/\*/g, '[*]');
}


/***/ })

};
