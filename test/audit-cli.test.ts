/** `npx kyclive audit verify` and `audit export` on an embedded database: a tampered entry is named. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { audit } from '../src/app/audit/audit.ts';
import { loadConfig } from '../src/config/config.ts';
import { openDatabase } from '../src/main/compose.ts';
import { migrate } from '../src/storage/db/migrate.ts';

const BIN = new URL('../bin/kyclive.mjs', import.meta.url).pathname;

test('audit verify names the entry changed behind its back; audit export gives every entry as a JSON line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kyclive-audit-'));
  const env = { ...process.env, KYCLIVE_DATA_DIR: dir, NODE_OPTIONS: '' };
  const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8' });
  try {
    const db = await openDatabase(loadConfig({ KYCLIVE_DATA_DIR: dir }));
    await migrate(db);
    for (const action of ['staff.login', 'case.view', 'case.decide'])
      await db.transaction((tx) => audit(tx, { at: new Date(), actorType: 'staff', actorId: 's1', action }));
    await db.close();

    const ok = cli('audit', 'verify');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /intact: 3 entries/);
    const lines = cli('audit', 'export')
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((e) => [e.seq, e.action]),
      [
        [1, 'staff.login'],
        [2, 'case.view'],
        [3, 'case.decide'],
      ],
    );
    assert.equal(lines[1].prevHash, lines[0].hash);

    const again = await openDatabase(loadConfig({ KYCLIVE_DATA_DIR: dir }));
    await again.exec('alter table audit_log disable trigger audit_log_no_update');
    await again.query(`update audit_log set action = 'case.approve' where seq = 2`);
    await again.close();
    const broken = cli('audit', 'verify');
    assert.equal(broken.status, 1);
    assert.match(broken.stderr, /broken at entry 2: its content does not match its hash/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
