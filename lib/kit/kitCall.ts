/**
 * One joint-operation Kit call (spec kit.md): size and JSON checks, `x-sign` (§2), the interface's schema, the plan,
 * and the commit. The nonce claim, the record changes with their history and events (the Kit outbox), and the message-log
 * record (with the request and the answer, redacted: ./keptRequest.ts) are one TransactWriteItems (laws 1, 4, 6). A call changing more records than one transaction holds (a large
 * authSync or allOrgSync) commits in several, the nonce claim in the first and the message-log record in the last;
 * each is conditioned on the versions read, and a repeat re-plans from what is stored, so it converges
 * (docs/decisions.md). The answer is always HTTP 200 with a result code, given within the call's budget.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keepBody, type KeptBody } from '#lib/audit/redact.ts';
import type { AccessKey } from '#lib/koogallery/auth.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '#lib/koogallery/canonicalJson.ts';
import { isKitInterface, parseKitRequest, type KitInterface } from '#lib/koogallery/kitActivities.ts';
import { kitAnswer, KitResultCode, type KitAnswer } from '#lib/koogallery/kitResultCodes.ts';
import { verifyKitRequest, type KitHeaders, type KitWindow } from '#lib/koogallery/kitSignature.ts';
import { parseJsonTree, plainValue, type JsonMap } from '#lib/koogallery/jsonTree.ts';
import { sha256Hex } from '#lib/koogallery/signature.ts';
import type { Log } from '#lib/log.ts';
import { budget } from '#lib/shared/budget.ts';
import { errorFields, errorName } from '#lib/shared/errors.ts';
import type { CommitResult, PlannedWrite } from '#lib/shared/transaction.ts';
import { sleep } from '#lib/shared/time.ts';
import type { EventPublisher } from '#lib/outbox/publisher.ts';
import { keptKitRequest, unreadKitRequest } from './keptRequest.ts';
import type { KitChange, KitEvent } from './model.ts';
import { planKitRequest, type KitPolicy } from './planCall.ts';
import type { KitStore } from './ports.ts';

export interface KitCall {
  name: KitInterface;
  rawBody: string;
  headers: KitHeaders;
  correlationId: string;
}

export interface KitSettings {
  maxBodyBytes: number;
  window: KitWindow;
  nonceTtlSeconds: number;
  testTtlDays: number;
  policy: KitPolicy;
}

export interface KitDeps {
  kitKeys: () => Promise<AccessKey[]>;
  /** The seller's RSA private key, for applicationSync's clientSecret. */
  privateKey: () => Promise<KeyObject>;
  store: KitStore;
  /** Sends the committed changes' events to the provisioning queue; the outbox sweep re-sends what it could not. */
  publisher?: EventPublisher<KitEvent> | undefined;
  settings: KitSettings;
  now: () => number;
  log: Log;
}

/** How long the marketplace's 5 s leave the flow, and how it is shared (as produce's, lib/instances/produceCall.ts). */
export const KIT_ANSWER_WITHIN_MS = 4_000;
const SHARES = { settle: 3 / 8, commit: 1 / 4, afterCommit: 1 / 8 } as const;
/** Each changed record is 3 items (record, history, event); 2 more for the nonce claim and the message-log record. */
export const CHANGES_PER_TRANSACTION = 32;
const MAX_ATTEMPTS = 6;

type Authenticated = { ok: true; keyId: string; nonce: string; form: string; body: Record<string, unknown>; kept: KeptBody };
type Refused = { ok: false; given: KitAnswer; reason: string; kept: KeptBody };

/** Size, JSON and signature, in the order of spec §2.1. */
function authenticate(call: KitCall, keys: readonly AccessKey[], nowMs: number, settings: KitSettings): Authenticated | Refused {
  const bytes = Buffer.byteLength(call.rawBody, 'utf8');
  const bad = (reason: string, kept: KeptBody, code: KitAnswer['resultCode'] = KitResultCode.invalidParameter): Refused => ({
    ok: false,
    given: kitAnswer(code, reason),
    reason,
    kept,
  });
  const unread = (note: string) => unreadKitRequest(call.headers, note);
  if (bytes === 0 || bytes > settings.maxBodyBytes) return bad('body is empty or too large', unread(`${bytes} bytes`));
  if (nestedDeeperThan(call.rawBody)) return bad(`body is nested deeper than ${MAX_JSON_DEPTH} levels`, unread('nested too deep'));
  const reading = parseJsonTree(call.rawBody, MAX_JSON_DEPTH);
  if (!reading.ok || !(reading.value instanceof Map)) {
    const reason = reading.ok
      ? 'body is not a JSON object'
      : `body is ${reading.problem === 'duplicate key' ? 'not readable: a duplicate key' : 'not a JSON object'}`;
    return bad(reason, unread(reason));
  }
  const tree: JsonMap = reading.value;
  const body = plainValue(tree) as Record<string, unknown>;
  const kept = keptKitRequest(call.headers, body);
  const verdict = verifyKitRequest(keys, call.headers, tree, call.rawBody, nowMs, settings.window);
  if (!verdict.ok) return bad(verdict.reason, kept, verdict.code);
  return { ok: true, keyId: verdict.keyId, nonce: verdict.nonce, form: verdict.form, body, kept };
}

/** Splits changes into transactions; a call that changes nothing still commits once (its nonce and record). */
function chunks(changes: readonly KitChange[]): KitChange[][] {
  const out: KitChange[][] = [];
  for (let i = 0; i < changes.length; i += CHANGES_PER_TRANSACTION) out.push(changes.slice(i, i + CHANGES_PER_TRANSACTION));
  return out.length > 0 ? out : [[]];
}

const DAY_SECONDS = 24 * 3600;

export async function handleKitCall(call: KitCall, deps: KitDeps, options: { answerWithinMs?: number } = {}): Promise<KitAnswer> {
  const { store, settings, log } = deps;
  const totalMs = options.answerWithinMs ?? KIT_ANSWER_WITHIN_MS;
  const time = budget(totalMs);
  const started = deps.now();
  const nowSeconds = Math.floor(started / 1000);
  const audit: AuditRecord = {
    at: new Date(started).toISOString(),
    correlationId: call.correlationId,
    channel: 'kit',
    activity: call.name,
    resultCode: '',
    latencyMs: 0,
    bodySha256: sha256Hex(call.rawBody),
    bodyBytes: Buffer.byteLength(call.rawBody, 'utf8'),
  };
  /** Set once the message-log record was sent in a transaction whose outcome is unknown. */
  let unconfirmed: KitAnswer | undefined;

  const auditWrite = (given: KitAnswer, reason?: string): PlannedWrite => {
    audit.resultCode = given.resultCode;
    audit.answer = keepBody(given);
    audit.latencyMs = deps.now() - started;
    if (reason) audit.reason = reason;
    return store.audit(audit);
  };
  const finish = (given: KitAnswer, note: Record<string, unknown> = {}): KitAnswer => {
    const { reason: _r, request: _request, answer: _answer, ...logged } = audit;
    log.info('kit call', { ...logged, ...note, resultCode: given.resultCode, latencyMs: deps.now() - started });
    return given;
  };
  const commit = async (writes: PlannedWrite[], recording?: KitAnswer): Promise<CommitResult> => {
    if (recording) unconfirmed = recording;
    const result = await time.step({ atMost: totalMs * SHARES.commit, leaving: totalMs * SHARES.afterCommit }, () => store.commit(writes));
    unconfirmed = undefined;
    return result;
  };
  /** Sends a committed call's events; whatever the queue does, the Kit outbox keeps them for the sweep and the answer stands. */
  const publishCommitted = async (events: readonly KitEvent[]): Promise<void> => {
    if (events.length === 0 || !deps.publisher) return;
    const publisher = deps.publisher;
    try {
      const unsent = await time.step({ atMost: totalMs * SHARES.afterCommit }, () => publisher.publish(events));
      if (unsent.length > 0) log.warn('kit events left to the outbox sweep', { count: unsent.length, correlationId: call.correlationId });
    } catch (error) {
      log.warn('kit events left to the outbox sweep', { count: events.length, correlationId: call.correlationId, error: errorName(error) });
    }
  };
  const refuse = async (given: KitAnswer, reason: string, nonceClaim?: PlannedWrite): Promise<KitAnswer> => {
    const result = await commit([...(nonceClaim ? [nonceClaim] : []), auditWrite(given, reason)], given);
    if (!result.ok && result.conditionFailed.includes('nonce'))
      return refuse(kitAnswer(KitResultCode.authFailed, 'x-nonce was already used'), 'replayed nonce');
    return finish(given, { reason });
  };

  try {
    const keys = await time.step({ leaving: totalMs * SHARES.settle }, () => deps.kitKeys());
    const verdict = authenticate(call, keys, started, settings);
    audit.request = verdict.kept;
    if (!verdict.ok) return await refuse(verdict.given, verdict.reason);
    audit.keyId = verdict.keyId;
    audit.signatureForm = verdict.form;
    if (verdict.form !== 'top-level-sorted')
      log.warn('kit signature matched a fallback form', { form: verdict.form, correlationId: call.correlationId });
    const nonceClaim = store.claimNonce(verdict.keyId, verdict.nonce, nowSeconds + settings.nonceTtlSeconds);

    const parsed = parseKitRequest(call.name, verdict.body);
    if (!parsed.ok) return await refuse(kitAnswer(KitResultCode.invalidParameter, parsed.reason), parsed.reason, nonceClaim);
    const request = parsed.request;
    audit.tenantId = request.body.tenantId;
    audit.test = request.body.testFlag;
    if (request.body.instanceId) audit.instanceId = request.body.instanceId;
    // Debug records expire like debug instances; a record a real call wrote stays (lib/kit/plans.ts).
    const expiresAt = nowSeconds + settings.testTtlDays * DAY_SECONDS;

    let nonceClaimed = false;
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const planned = await time.step({ leaving: totalMs * SHARES.settle }, () =>
        planKitRequest(request, {
          store,
          privateKey: deps.privateKey,
          policy: settings.policy,
          nowIso: new Date(deps.now()).toISOString(),
        }),
      );
      if (!planned.ok) return await refuse(planned.given, planned.reason, nonceClaimed ? undefined : nonceClaim);
      if (planned.variant) log.info('clientSecret decrypted', { variant: planned.variant, correlationId: call.correlationId });
      const given = kitAnswer(KitResultCode.success);
      const writesOf = (part: readonly KitChange[]) =>
        part.flatMap((c) => store.change(c, nowSeconds, c.record.value.test ? expiresAt : undefined));
      // One transaction after the other: the first claims the nonce, so a replay never gets further; the last
      // carries the message-log record. (In parallel they overwhelm DynamoDB Local; see docs/decisions.md.)
      const parts = chunks(planned.plan.changes);
      let lost = false;
      for (const [index, part] of parts.entries()) {
        const last = index === parts.length - 1;
        const writes = writesOf(part);
        if (!nonceClaimed) writes.unshift(nonceClaim);
        if (last) writes.push(auditWrite(given));
        const result = await commit(writes, last ? given : undefined);
        if (result.ok) {
          nonceClaimed = true;
          continue;
        }
        if (!nonceClaimed && result.conditionFailed.includes('nonce')) {
          return await refuse(kitAnswer(KitResultCode.authFailed, 'x-nonce was already used'), 'replayed nonce');
        }
        lost = true;
        break;
      }
      if (!lost) {
        await publishCommitted(planned.plan.changes.flatMap((c) => (c.event ? [c.event] : [])));
        return finish(given, { ...planned.plan.note, attempt, records: planned.plan.changes.length });
      }
      await sleep(Math.random() * 15 * attempt);
    }
    throw new Error(`could not commit after ${MAX_ATTEMPTS} attempts`);
  } catch (error) {
    return await afterFailure(error);
  }

  /** 000005 with its own record; a record that already exists means the lost transaction committed: answer as it did. */
  async function afterFailure(error: unknown): Promise<KitAnswer> {
    const given = kitAnswer(KitResultCode.internalError);
    const lost = unconfirmed;
    try {
      const recorded = await time.step({ atMost: totalMs * SHARES.afterCommit }, () => store.commit([auditWrite(given, 'internal error')]));
      if (lost && !recorded.ok && recorded.conditionFailed.includes('audit')) {
        log.warn('commit answer lost; the write is durable', { correlationId: call.correlationId, error: errorName(error) });
        return finish(lost);
      }
    } catch (auditError) {
      log.error('message log write failed', { correlationId: call.correlationId, error: errorName(auditError) });
    }
    log.error('kit call failed', { correlationId: call.correlationId, activity: call.name, error: errorFields(error) });
    return given;
  }
}

/** The interface a path names, if it is one of the five (`…/produceAPI[/v2]/<name>`). */
export function kitInterfaceOf(name: string | undefined): KitInterface | undefined {
  return name !== undefined && isKitInterface(name) ? name : undefined;
}
