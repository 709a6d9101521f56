/**
 * The `kyclive` command. `serve` runs the service; `clients` manages API clients while the
 * server is stopped (on a running server use POST /admin/clients); `analyze` runs the engine on
 * files; `migrate` applies migrations.
 */
import { loadConfig } from '../config/config.ts';
import { createClient } from '../app/clients/create-client.ts';
import { listClients } from '../app/clients/list-clients.ts';
import { rotateClientSecret } from '../app/clients/rotate-client-secret.ts';
import { verifyAuditChain } from '../app/audit/verify-audit-chain.ts';
import { migrate } from '../storage/db/migrate.ts';
import { readAudit } from '../storage/db/repo/audit.ts';
import { openDatabase } from './compose.ts';

const USAGE = `usage: kyclive <command>
  serve                                   run the service (same as npm start)
  worker                                  run only the job worker and webhook dispatcher (scale them apart from the API; set KYCLIVE_WORKER=0 on API processes)
  migrate                                 apply database migrations
  clients create --name NAME [--scopes "read_only read_write admin"] [--method liveness|certified]
  clients list
  clients rotate CLIENT_ID                new secret; tokens of the old one stop working
  audit verify                            check the audit log's hash chain; names the first entry that does not hold (exit 1)
  audit export [--after SEQ]              the audit log as JSON lines, in chain order
  analyze --document FILE [--document FILE] --face FILE [--method liveness|certified] [--json] …  (engine)`;

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function withDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const db = await openDatabase(loadConfig());
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (cmd === 'serve' || cmd === undefined) {
    const { serve } = await import('./server.ts');
    await serve();
    return -1; // keep running
  }
  if (cmd === 'worker') {
    const { runWorker } = await import('./server.ts');
    await runWorker();
    return -1;
  }
  if (cmd === 'migrate') {
    const applied = await withDb((db) => migrate(db));
    console.log(applied.length ? `applied migrations ${applied.join(', ')}` : 'database is up to date');
    return 0;
  }
  if (cmd === 'clients') {
    const args = [sub, ...rest];
    if (sub === 'create') {
      const c = await withDb((db) =>
        createClient(db, {
          name: flag(args, 'name'),
          scopes: flag(args, 'scopes') ?? 'read_only read_write',
          method: flag(args, 'method'),
        }),
      );
      console.log(JSON.stringify({ client_id: c.clientId, client_secret: c.clientSecret, scopes: c.scopes }));
      return 0;
    }
    if (sub === 'list') {
      for (const c of await withDb((db) => listClients(db)))
        console.log(
          `${c.clientId}\t${c.name}\t${c.scopes.join(' ')}\t${c.method}\t${c.createdAt.toISOString()}${c.disabled ? '\tdisabled' : ''}`,
        );
      return 0;
    }
    if (sub === 'rotate' && rest[0]) {
      const c = await withDb((db) => rotateClientSecret(db, rest[0]));
      console.log(JSON.stringify({ client_id: c.clientId, client_secret: c.clientSecret }));
      return 0;
    }
  }
  if (cmd === 'audit') {
    if (sub === 'verify') {
      const r = await withDb((db) => verifyAuditChain(db));
      if (r.ok) console.log(`audit log intact: ${r.entries} entries, each chained to the one before`);
      else
        console.error(
          `audit log broken at entry ${r.firstBroken!.seq}: ${r.firstBroken!.reason} (${r.entries} entries hold before it)`,
        );
      return r.ok ? 0 : 1;
    }
    if (sub === 'export') {
      let after = Number(flag(rest, 'after') ?? 0);
      await withDb(async (db) => {
        for (;;) {
          const batch = await readAudit(db, after, 1000);
          for (const e of batch) process.stdout.write(`${JSON.stringify(e)}\n`);
          if (batch.length < 1000) return;
          after = batch[batch.length - 1].seq;
        }
      });
      return 0;
    }
  }
  if (cmd === 'analyze') {
    const { runAnalyzeCli } = await import('../engine/cli.ts');
    return runAnalyzeCli([sub, ...rest].filter((x) => x !== undefined));
  }
  console.error(USAGE);
  return 2;
}
