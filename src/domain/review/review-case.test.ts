import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KycError } from '../errors.ts';
import {
  type CaseSnapshot,
  checklistFor,
  type Decision,
  resolveReviewSettings,
  reviewReason,
  reviewTransition,
} from './review-case.ts';
import type { StaffPrincipal } from './staff.ts';

const now = new Date('2026-12-07T12:00:00Z');
const staff = (id: string, ...roles: StaffPrincipal['roles'][number][]): StaffPrincipal => ({
  id,
  email: `${id}@bank.example`,
  roles,
  tenants: null,
});
const maker = staff('maker', 'reviewer');
const checker = staff('checker', 'checker');
const viewer = staff('viewer', 'viewer');
const admin = staff('admin', 'admin');
const base: CaseSnapshot = {
  id: 'c1',
  kind: 'verification',
  state: 'open',
  fourEyes: true,
  assignee: 'maker',
  proposal: null,
  evidenceHash: 'e1',
  method: 'certified',
};
const all = (c: CaseSnapshot, v = true) => Object.fromEntries(checklistFor(c).map((i) => [i, v]));
const approve: Decision = { outcome: 'approve', reasons: [], comment: '', checklist: all(base) };
const refuse: Decision = {
  outcome: 'refuse',
  reasons: [2403],
  comment: 'Coached by someone off camera',
  checklist: all(base, false),
};
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof KycError ? e.code : 'other';
  }
  return 'none';
};

test('four eyes: the maker proposes, only another checker approves, and the decision is applied once', () => {
  const proposed = reviewTransition(base, { type: 'decide', staff: maker, decision: approve }, now);
  assert.equal(proposed.patch.state, 'pending_check');
  assert.deepEqual(proposed.effects, []);
  const pending = { ...base, ...proposed.patch } as CaseSnapshot;
  const makerChecker = staff('maker', 'reviewer', 'checker');
  assert.equal(
    code(() => reviewTransition(pending, { type: 'approve', staff: makerChecker }, now)),
    'forbidden',
  );
  assert.equal(
    code(() => reviewTransition(pending, { type: 'approve', staff: maker }, now)),
    'forbidden',
  );
  const approved = reviewTransition(pending, { type: 'approve', staff: checker }, now);
  assert.equal(approved.patch.state, 'closed');
  assert.deepEqual(approved.effects, [{ type: 'finalize', decision: approve }]);
  assert.equal(approved.patch.decision?.by, 'maker');
  assert.equal(approved.patch.decision?.checkedBy, 'checker');
  const closed = { ...pending, ...approved.patch } as CaseSnapshot;
  assert.equal(
    code(() => reviewTransition(closed, { type: 'approve', staff: checker }, now)),
    'conflict',
  );
});

test('approving when nothing is pending is a conflict; a checker can send a decision back', () => {
  assert.equal(
    code(() => reviewTransition(base, { type: 'approve', staff: checker }, now)),
    'conflict',
  );
  const pending = {
    ...base,
    ...reviewTransition(base, { type: 'decide', staff: maker, decision: refuse }, now).patch,
  } as CaseSnapshot;
  const back = reviewTransition(pending, { type: 'send_back', staff: checker, comment: 'check the portrait' }, now);
  assert.deepEqual([back.patch.state, back.patch.proposal], ['open', null]);
});

test('without four eyes the assignee decides alone; others, and roles that may not, are refused', () => {
  const single = { ...base, fourEyes: false };
  const r = reviewTransition(single, { type: 'decide', staff: maker, decision: refuse }, now);
  assert.equal(r.patch.state, 'closed');
  assert.deepEqual(r.effects, [{ type: 'finalize', decision: refuse }]);
  assert.equal(
    code(() => reviewTransition(single, { type: 'decide', staff: checker, decision: refuse }, now)),
    'forbidden',
  );
  assert.equal(
    code(() =>
      reviewTransition({ ...single, assignee: 'viewer' }, { type: 'decide', staff: viewer, decision: refuse }, now),
    ),
    'forbidden',
  );
  assert.equal(
    code(() => reviewTransition(single, { type: 'claim', staff: viewer }, now)),
    'forbidden',
  );
  assert.equal(
    code(() => reviewTransition(single, { type: 'claim', staff: checker }, now)),
    'conflict',
  );
  assert.deepEqual(
    reviewTransition({ ...single, assignee: null }, { type: 'claim', staff: checker }, now).patch.assignee,
    'checker',
  );
  assert.equal(
    code(() => reviewTransition(single, { type: 'assign', staff: maker, to: 'x' }, now)),
    'forbidden',
  );
  assert.equal(
    reviewTransition(single, { type: 'assign', staff: admin, to: 'checker' }, now).patch.assignee,
    'checker',
  );
});

test('a change in the evidence clears a decision waiting for its check', () => {
  const pending = {
    ...base,
    ...reviewTransition(base, { type: 'decide', staff: maker, decision: approve }, now).patch,
  } as CaseSnapshot;
  const r = reviewTransition(pending, { type: 'evidence_changed', evidenceHash: 'e2' }, now);
  assert.deepEqual([r.patch.state, r.patch.proposal, r.patch.evidenceHash], ['open', null, 'e2']);
  assert.deepEqual(reviewTransition(pending, { type: 'evidence_changed', evidenceHash: 'e1' }, now).patch, {});
});

test('decisions are checked: the whole checklist, catalogue codes, reasons and a comment to refuse, none to approve', () => {
  const decide = (d: Decision) =>
    code(() => reviewTransition(base, { type: 'decide', staff: maker, decision: d }, now));
  assert.equal(decide({ ...approve, checklist: { same_person: true } }), 'invalid_request');
  assert.equal(decide({ ...approve, checklist: { ...all(base), extra: true } }), 'invalid_request');
  assert.equal(decide({ ...approve, checklist: all(base, false) }), 'invalid_request');
  assert.equal(decide({ ...approve, reasons: [2304] }), 'invalid_request');
  assert.equal(decide({ ...refuse, reasons: [] }), 'invalid_request');
  assert.equal(decide({ ...refuse, reasons: [9999] }), 'invalid_request');
  assert.equal(decide({ ...refuse, comment: ' ' }), 'invalid_request');
  assert.equal(decide(refuse), 'none');
  assert.ok(checklistFor(base).includes('challenges_performed'));
  assert.ok(!checklistFor({ kind: 'verification', method: 'liveness' }).includes('challenges_performed'));
});

test('cancel closes a case in progress and leaves a closed one alone', () => {
  assert.equal(reviewTransition(base, { type: 'cancel' }, now).patch.state, 'cancelled');
  assert.deepEqual(reviewTransition({ ...base, state: 'closed' }, { type: 'cancel' }, now).patch, {});
});

test('what goes to a human: every certified file, every undecided one, a sample of the rest, never a simulation', () => {
  const s = resolveReviewSettings({ sample: { refusals: 0.5, acceptances: 0 } });
  assert.equal(reviewReason({ method: 'certified', score: 1, simulated: false }, s, 0.99), 'certified');
  assert.equal(reviewReason({ method: 'liveness', score: -1, simulated: false }, s, 0.99), 'undecided');
  assert.equal(reviewReason({ method: 'liveness', score: 0, simulated: false }, s, 0.4), 'sampled');
  assert.equal(reviewReason({ method: 'liveness', score: 0, simulated: false }, s, 0.6), null);
  assert.equal(reviewReason({ method: 'liveness', score: 1, simulated: false }, s, 0), null);
  assert.equal(reviewReason({ method: 'certified', score: -1, simulated: true }, s, 0), null);
  // PVID's second person cannot be switched off
  assert.equal(resolveReviewSettings({ fourEyes: { certified: false } }).fourEyes.certified, true);
  assert.equal(resolveReviewSettings({ sample: { refusals: 7 } }).sample.refusals, 0);
});
