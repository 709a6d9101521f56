#!/usr/bin/env node
// Entry point: registers tsx so the TypeScript sources run as they are (no build step), then
// hands over to src/main/cli.ts.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../src/main/cli.ts');
try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}
