// The entry point the runner starts (dist/index.js): it only calls run().
import './esm-shim.js'
import { once } from 'node:events'
import { run } from './main.js'

await run()
// Exit only once stdout has drained: the end of the log (closing groups and markers) must not be lost.
if (process.stdout.writableLength > 0) await once(process.stdout, 'drain')
// Anything still holding the event loop (a socket a host never closed) must not keep the step alive.
setTimeout(() => process.exit(), 3_000).unref()
