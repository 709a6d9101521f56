import { KycError } from '../../domain/errors.ts';
import { randomToken } from '../../lib/secrets.ts';
import { insertSandboxPayin } from '../../storage/db/repo/payins.ts';
import type { AppDeps } from '../deps.ts';

/** IBAN mod-97 check (ISO 13616). */
export function isValidIban(iban: string): boolean {
  const s = iban.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(s)) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const v = /\d/.test(ch) ? ch : String(ch.charCodeAt(0) - 55);
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem === 1;
}

/**
 * POST /simulation/payin-sct as in Treezor's spec: records a simulated incoming SEPA credit
 * transfer. It is what the liveness method's extra validation (a transfer from an account in the
 * user's name) will consume; the matching itself is future work and documented as such.
 */
export async function simulatePayinSct(
  deps: AppDeps,
  clientId: string,
  b: { iban: string; amount: number | string },
): Promise<{ id: number; txId: string; payinId: number; returnReasonCode: null }> {
  if (!deps.config.sandbox)
    throw new KycError('sandbox_disabled', 'Simulation endpoints are disabled on this server (KYCLIVE_SANDBOX=0).');
  if (!isValidIban(b.iban)) throw new KycError('invalid_request', 'iban must be a valid IBAN.', { param: 'iban' });
  const amount = Number(b.amount);
  if (!Number.isFinite(amount) || amount <= 0 || amount > 1e9 || Math.round(amount * 100) !== amount * 100) {
    throw new KycError('invalid_request', 'amount must be a positive number with at most 2 decimals.', {
      param: 'amount',
    });
  }
  const txId = randomToken(12).slice(0, 16);
  const r = await insertSandboxPayin(deps.db, {
    clientId,
    txId,
    iban: b.iban.replace(/\s+/g, '').toUpperCase(),
    amount: amount.toFixed(2),
  });
  return { id: r.id, txId, payinId: r.payinId, returnReasonCode: null };
}
