/**
 * npm run bench:initiate — the database side of POST kycliveness alone, without HTTP or a load
 * generator: the group-commit batcher (initiate-batcher.ts) on the embedded database in its own
 * thread, with batches of 1, 25 (what 50 connections produce) and 50 concurrent initiations over
 * 500 users. Reports the time per initiation as the verifications table grows, with and without
 * the embedded autovacuum (storage/db/maintenance.ts). Numbers, not assertions.
 * Options: --rounds N (default 400 per batch size).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/config.ts';
import { noWakeups, silentLog, type AppDeps } from '../../src/app/deps.ts';
import { systemClock } from '../../src/app/ports.ts';
import { initiateVerification } from '../../src/app/verifications/initiate-verification.ts';
import { createClient } from '../../src/app/clients/create-client.ts';
import { missingLivenessFields } from '../../src/domain/user.ts';
import { runMaintenance } from '../../src/storage/db/maintenance.ts';
import { migrate } from '../../src/storage/db/migrate.ts';
import { openPgliteThread } from '../../src/storage/db/pglite-thread.ts';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 400;

async function run(batch: number, maintain: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kyclive-bench-db-'));
  const db = await openPgliteThread(dir);
  try {
    await migrate(db);
    const config = loadConfig(
      { KYCLIVE_DATA_DIR: dir },
      { secret: randomBytes(32), blobEncryptionKey: randomBytes(32) },
    );
    const deps = { db, clock: systemClock, config, log: silentLog, wake: noWakeups } as unknown as AppDeps;
    const client = await createClient(db, { name: 'bench', scopes: ['read_write'] });
    const fields = { firstname: 'Bench', lastname: 'User', birthday: '1990-01-01' };
    const users = (
      await db.query<{ id: number }>(
        `insert into users (client_id, fields, liveness_missing) select $1, $2, $3 from generate_series(1, 500) returning id`,
        [client.clientId, JSON.stringify(fields), missingLivenessFields(fields)],
      )
    ).rows.map((r) => r.id);
    let next = 0;
    const laps: string[] = [];
    let t0 = performance.now();
    for (let round = 1; round <= rounds; round++) {
      // distinct users within a round, as the batcher requires of one batch
      await Promise.all(
        Array.from({ length: batch }, () =>
          initiateVerification(deps, client.clientId, users[next++ % users.length], undefined),
        ),
      );
      if (maintain && round % 50 === 0) await runMaintenance(db, new Date());
      if (round % (rounds / 4) === 0) {
        laps.push(`${Math.round(((performance.now() - t0) * 1000) / ((rounds / 4) * batch))}`);
        t0 = performance.now();
      }
    }
    return `| ${batch} | ${maintain ? 'yes' : 'no'} | ${laps.join(' → ')} |`;
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(
  `# POST kycliveness, database side (${rounds} rounds per row; µs per initiation over each quarter of the run)\n`,
);
console.log('| batch | autovacuum | µs per initiation, quarter by quarter |\n|---|---|---|');
for (const batch of [1, 25, 50]) {
  for (const maintain of [false, true]) console.log(await run(batch, maintain));
}
process.exit(0);
