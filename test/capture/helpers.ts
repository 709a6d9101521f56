/** Shared by the capture suites: a tenant with a chosen method, a user and an open verification. */
import { randomBytes } from 'node:crypto';
import { createClient } from '../../src/app/clients/create-client.ts';
import { KycliveClient } from '../../src/sdk/index.ts';
import type { TestServer } from '../helpers/runtime.ts';

export interface Started {
  sdk: KycliveClient;
  creds: { clientId: string; clientSecret: string };
  userId: string;
  identificationId: string;
  identificationUrl: string;
  token: string;
}

export async function newTenant(
  server: TestServer,
  method: 'liveness' | 'certified' = 'liveness',
  name = `capture ${randomBytes(3).toString('hex')}`,
) {
  const c = await createClient(server.runtime.deps.db, {
    name,
    scopes: ['read_only', 'read_write', 'admin', 'legal'],
    method,
  });
  const creds = { clientId: c.clientId, clientSecret: c.clientSecret };
  return { creds, sdk: new KycliveClient({ baseUrl: server.baseUrl, ...creds }) };
}

export async function startVerification(
  server: TestServer,
  opts: {
    method?: 'liveness' | 'certified';
    redirectUrl?: string;
    tenant?: Awaited<ReturnType<typeof newTenant>>;
  } = {},
): Promise<Started> {
  const tenant = opts.tenant ?? (await newTenant(server, opts.method));
  const user = await tenant.sdk.createUser({
    userTypeId: 1,
    specifiedUSPerson: 0,
    email: 'cap@example.com',
    firstname: 'Camille',
    lastname: 'Martin',
    birthday: '1991-04-12',
  });
  const v = await tenant.sdk.createKycliveness(user.userId, opts.redirectUrl ? { redirectUrl: opts.redirectUrl } : {});
  return {
    ...tenant,
    userId: String(user.userId),
    identificationId: v.identificationId,
    identificationUrl: v.identificationUrl,
    token: v.identificationUrl.split('/').pop()!,
  };
}

/** Bytes that pass the server's WebM magic check (the sandbox analyzer never decodes them). */
export function fakeWebm(size: number): Buffer {
  const b = randomBytes(size);
  b.writeUInt32BE(0x1a45dfa3, 0);
  return b;
}
