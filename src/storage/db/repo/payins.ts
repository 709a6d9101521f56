import type { Queryable } from '../../../app/ports.ts';

/** A simulated incoming SEPA credit transfer (sandbox). */
export async function insertSandboxPayin(
  q: Queryable,
  p: { clientId: string; txId: string; iban: string; amount: string },
): Promise<{ id: number; payinId: number }> {
  const r = await q.query<{ id: number; payin_id: number }>(
    `insert into sandbox_payins (client_id, payin_id, tx_id, iban, amount) values ($1, (select coalesce(max(payin_id), 1646000) + 1 from sandbox_payins), $2, $3, $4) returning id, payin_id`,
    [p.clientId, p.txId, p.iban, p.amount],
  );
  return { id: r.rows[0].id, payinId: r.rows[0].payin_id };
}
