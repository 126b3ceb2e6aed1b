// The post step's entry point (dist/post/index.js): releases the fleet lock (action/lock-post.ts).
import './esm-shim.js'
import { releaseLock } from './action/lock-post.js'

await releaseLock()
// A socket left open must not keep the job waiting.
setTimeout(() => process.exit(), 3_000).unref()
