// Nothing library-specific: the defaults, plus the COOP/COEP headers any app that wants
// SharedArrayBuffer must send (dev server and preview).
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default {
  logLevel: 'warn',
  server: { headers: isolation },
  preview: { headers: isolation },
};
