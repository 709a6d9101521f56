// The baseline: a bare Fastify route doing nothing, measured in the same run as kyclive.
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
const app = Fastify();
app.post('/bare', async () => ({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
process.send!({ ready: true, port: (app.server.address() as AddressInfo).port });
// Answer before exiting: run.ts awaits the reply, and would wait for ever without it.
process.on('message', async (m: any) => {
  if (m.cmd === 'close') {
    await app.close();
    process.send!({ id: m.id, ok: true }, () => process.exit(0));
  }
});
// run.ts gone without asking (an error, an early exit): the channel closes, and this process would
// otherwise keep its port and the terminal's output open for ever.
process.on('disconnect', () => process.exit(0));
