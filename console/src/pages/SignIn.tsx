import { useState } from 'preact/hooks';
import { API_KEY_PATTERN } from '../session.ts';
import { Field } from '../ui.tsx';

/** Sign-in with a seller API key (`npx koogallery keys create`, or the key `npm start` prints). */
export function SignIn({ notice, onSignIn }: { notice: string | undefined; onSignIn: (secret: string) => void }) {
  const [secret, setSecret] = useState('');
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const submit = (event: Event) => {
    event.preventDefault();
    const value = secret.trim();
    if (!API_KEY_PATTERN.test(value)) {
      setProblem('A seller API key is kgs_ followed by 43 letters, digits, - or _.');
      return;
    }
    onSignIn(value);
  };
  return (
    <main id="main" class="sign-in">
      <h1>Seller console</h1>
      {notice ? (
        <p role="alert" class="notice">
          {notice}
        </p>
      ) : null}
      <form onSubmit={submit} noValidate>
        <Field label="Seller API key" hint="Kept in this tab only, until you sign out or close it.">
          <input
            type="password"
            name="key"
            autoComplete="off"
            spellcheck={false}
            required
            value={secret}
            aria-invalid={problem ? true : undefined}
            aria-describedby={problem ? 'key-problem' : undefined}
            onInput={(e) => setSecret(e.currentTarget.value)}
          />
        </Field>
        {problem ? (
          <p id="key-problem" role="alert" class="error">
            {problem}
          </p>
        ) : null}
        <button type="submit">Sign in</button>
      </form>
      <p class="muted">
        Create a key with <code>npx koogallery keys create --name you --scopes instances:read,…</code>; locally, <code>npm start</code>{' '}
        prints one.
      </p>
    </main>
  );
}
