import { useState } from 'preact/hooks';
import type { PageProps } from '../App.tsx';
import { ApiError } from '../api.ts';
import type { SellerKey } from '../types.ts';
import { DataTable, ErrorMessage, Field, Loading, Section, time, useLoad } from '../ui.tsx';

/**
 * Seller API keys (scope keys:manage): create one (its secret is shown once, here), revoke one (after a second
 * click that names it), and the list. A key grants only scopes it holds, so only those are offered.
 */

export function Keys({ api, me }: PageProps) {
  const list = useLoad(() => api.get<{ items: SellerKey[] }>('/seller/keys'), [api]);
  return (
    <>
      <h1>Keys</h1>
      <CreateKey api={api} grantable={me.scopes} onCreated={list.reload} />
      <Section title="All keys">
        <Loading loading={list.loading} />
        <ErrorMessage error={list.error} />
        <DataTable
          caption="Seller API keys, newest first"
          rows={list.data?.items}
          rowKey={(k) => k.keyId}
          empty="No keys."
          columns={[
            { title: 'Name', cell: (k) => k.name },
            { title: 'Key id', cell: (k) => <code>{k.keyId}</code> },
            { title: 'Scopes', cell: (k) => k.scopes.join(', ') },
            { title: 'Created', cell: (k) => time(k.createdAt) },
            { title: 'Last used', cell: (k) => time(k.lastUsedAt) },
            {
              title: 'Status',
              cell: (k) =>
                k.revokedAt ? (
                  `revoked ${time(k.revokedAt)}`
                ) : (
                  <Revoke api={api} target={k} own={k.keyId === me.keyId} onRevoked={list.reload} />
                ),
            },
          ]}
        />
      </Section>
    </>
  );
}

function CreateKey(props: { api: PageProps['api']; grantable: readonly string[]; onCreated: () => void }) {
  const { api, grantable, onCreated } = props;
  const [created, setCreated] = useState<{ secret: string; key: SellerKey } | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.post<{ secret: string; key: SellerKey }>('/seller/keys', {
        name: String(form.get('name') ?? '').trim(),
        scopes: form.getAll('scopes').map(String),
      });
      setCreated(answer);
      formElement.reset();
      onCreated();
    } catch (e) {
      setError(e instanceof ApiError ? e : new Error('The key could not be created.'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Create a key">
      <form onSubmit={submit} class="stack">
        <Field label="Name" hint="1 to 64 of A-Z a-z 0-9 . _ -">
          <input name="name" required maxLength={64} pattern="[A-Za-z0-9._\-]{1,64}" autoComplete="off" />
        </Field>
        <fieldset>
          <legend>Scopes</legend>
          <div class="checks">
            {grantable.map((scope) => (
              <label key={scope}>
                <input type="checkbox" name="scopes" value={scope} /> {scope}
              </label>
            ))}
          </div>
        </fieldset>
        <button type="submit" disabled={busy}>
          Create key
        </button>
      </form>
      <ErrorMessage error={error} />
      {created ? (
        <div role="status" class="secret">
          <p>
            Key <strong>{created.key.name}</strong> (<code>{created.key.keyId}</code>) was created. Copy its secret now: it is shown this
            once and never again.
          </p>
          <Field label="Secret of the new key">
            <input readOnly value={created.secret} class="mono" onFocus={(e) => e.currentTarget.select()} />
          </Field>
          <button type="button" onClick={() => setCreated(undefined)}>
            I have copied it
          </button>
        </div>
      ) : null}
    </Section>
  );
}

function Revoke(props: { api: PageProps['api']; target: SellerKey; own: boolean; onRevoked: () => void }) {
  const { api, target, own, onRevoked } = props;
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const revoke = async () => {
    try {
      await api.post(`/seller/keys/${target.keyId}/revoke`);
      onRevoked();
    } catch (e) {
      setError(e instanceof Error ? e : new Error('The key could not be revoked.'));
    }
  };
  if (!confirming) {
    return (
      <button type="button" aria-label={`Revoke ${target.name}`} onClick={() => setConfirming(true)}>
        Revoke
      </button>
    );
  }
  return (
    <span class="confirm">
      {own ? <strong>This is the key you are signed in with. </strong> : null}
      <button type="button" class="danger" onClick={revoke}>
        Confirm: revoke {target.name}
      </button>{' '}
      <button type="button" onClick={() => setConfirming(false)}>
        Cancel
      </button>
      <ErrorMessage error={error} />
    </span>
  );
}
