// ssh2's own files (src/engine/ssh2.ts), typed from @types/ssh2.
declare module 'ssh2/lib/client.js' {
  import { Client } from 'ssh2'
  export default Client
}

declare module 'ssh2/lib/protocol/keyParser.js' {
  import { utils } from 'ssh2'
  const keyParser: { parseKey: typeof utils.parseKey }
  export default keyParser
}

declare module 'ssh2/lib/Channel.js' {
  export const MAX_WINDOW: number
  export const PACKET_SIZE: number
}

declare module 'ssh2/lib/protocol/constants.js' {
  const constants: { DEFAULT_KEX: string[] }
  export default constants
}
