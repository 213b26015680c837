import { useMemo, useState } from 'preact/hooks';
import { createApi, type Api, type ApiError } from './api.ts';
import { href, useRoute, type Route } from './router.ts';
import { allows, PAGES, visiblePages } from './scopes.ts';
import { forgetKey, storedKey, storeKey } from './session.ts';
import type { WhoAmI } from './types.ts';
import { ErrorMessage, Loading, useLoad } from './ui.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { Overview } from './pages/Overview.tsx';
import { Instances } from './pages/Instances.tsx';
import { InstanceDetail } from './pages/InstanceDetail.tsx';
import { Keys } from './pages/Keys.tsx';
import { Messages } from './pages/Messages.tsx';
import { MessageDetail } from './pages/MessageDetail.tsx';
import { Usage } from './pages/Usage.tsx';
import { Statements } from './pages/Statements.tsx';
import { StatementDetail } from './pages/StatementDetail.tsx';
import { Audit } from './pages/Audit.tsx';
import { SupervisionFlow, SupervisionList } from './pages/Supervision.tsx';

/**
 * The console: sign-in with a seller API key, then the shell (navigation of the pages the key's scopes allow, the
 * signed-in key, sign-out) around the page the hash names. A refused key (401/403) signs out with the reason.
 */

export interface PageProps {
  api: Api;
  me: WhoAmI;
  route: Route;
}

function refusalNotice(error: ApiError): string {
  return error.status === 403
    ? `You were signed out: the seller API refused this key for a page (${error.message}). Sign in with a key that has the scope.`
    : `You were signed out: the seller API refused the key (${error.message}). Sign in with a valid key.`;
}

export function App() {
  const [key, setKey] = useState(storedKey);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const signOut = (message?: string) => {
    forgetKey();
    setKey(undefined);
    setNotice(message);
  };
  if (!key) {
    return (
      <SignIn
        notice={notice}
        onSignIn={(secret) => {
          storeKey(secret);
          setNotice(undefined);
          setKey(secret);
        }}
      />
    );
  }
  return <Shell key={key} secret={key} onSignOut={signOut} />;
}

function Shell({ secret, onSignOut }: { secret: string; onSignOut: (message?: string) => void }) {
  const api = useMemo(() => createApi(secret, (error) => onSignOut(refusalNotice(error))), [secret]);
  const me = useLoad(() => api.get<WhoAmI>('/seller/whoami'), [api]);
  const route = useRoute();
  if (!me.data) {
    return (
      <main id="main">
        <Loading loading={me.loading} />
        <ErrorMessage error={me.error} />
      </main>
    );
  }
  const pages = visiblePages(me.data.scopes);
  const current = route.segments[0] ?? '';
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header>
        <p class="brand">Seller console</p>
        <nav aria-label="Pages">
          <ul>
            {pages.map((page) => (
              <li key={page.id}>
                <a href={href(page.id ? [page.id] : [])} aria-current={page.id === current ? 'page' : undefined}>
                  {page.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="who">
          Signed in as <strong>{me.data.name}</strong> <span class="muted">({me.data.keyId})</span>{' '}
          <button type="button" onClick={() => onSignOut('You signed out.')}>
            Sign out
          </button>
        </p>
      </header>
      <main id="main" tabIndex={-1}>
        <CurrentPage api={api} me={me.data} route={route} />
      </main>
    </>
  );
}

function CurrentPage(props: PageProps) {
  const [first = '', second, third] = props.route.segments;
  const page = PAGES.find((p) => p.id === first);
  if (!page) return <NotFound />;
  if (!allows(props.me.scopes, page.scope)) {
    return (
      <p role="alert" class="error">
        This key cannot see {page.title}: it needs the scope <code>{page.scope}</code>.
      </p>
    );
  }
  switch (page.id) {
    case 'instances':
      return second ? <InstanceDetail {...props} instanceId={second} /> : <Instances {...props} />;
    case 'messages':
      return second ? <MessageDetail {...props} messageId={second} /> : <Messages {...props} />;
    case 'usage':
      return <Usage {...props} />;
    case 'statements':
      return second ? <StatementDetail {...props} period={second} /> : <Statements {...props} />;
    case 'supervision':
      return second && third ? <SupervisionFlow {...props} orderId={second} orderLineId={third} /> : <SupervisionList {...props} />;
    case 'keys':
      return <Keys {...props} />;
    case 'audit':
      return <Audit {...props} />;
    default:
      return <Overview {...props} />;
  }
}

function NotFound() {
  return (
    <>
      <h1>Not found</h1>
      <p>
        No such page. <a href={href([])}>Go to the overview</a>.
      </p>
    </>
  );
}
