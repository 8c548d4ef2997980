// comlink 4.4.2 has no exports map and its ESM files have no .d.mts next to them: these
// declarations give the deep ESM imports (which Node loads without a bundler) comlink's own types.
declare module 'comlink/dist/esm/comlink.mjs' {
  export * from 'comlink';
}
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(port: unknown): Endpoint;
}
