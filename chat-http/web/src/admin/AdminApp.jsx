// The agents' dashboard: /admin/login, /admin (the inbox), /admin/chat/:conversationId (the
// inbox beside one conversation, opened at ?message=… when a search result was chosen),
// /admin/search?q=… and /admin/audit, over one Socket.IO connection.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { ConnectionBanner, useConnection } from '../shared/ConnectionBanner.jsx';
import { navigate, usePath, useQuery } from '../shared/router.js';
import { connect } from '../shared/socket.js';
import { forget, loginWithToken, logout, storedLogin, tokenFromLink } from './auth.js';
import { AuditLog } from './AuditLog.jsx';
import { BlockedVisitors } from './BlockedVisitors.jsx';
import { ChatView } from './ChatView.jsx';
import { Inbox } from './Inbox.jsx';
import { useLabels } from './labels.js';
import { Login } from './Login.jsx';
import { Reports } from './Reports.jsx';
import { Search, SearchBox } from './Search.jsx';

function Dashboard({ login, selectedId, page, query, onSignedOut }) {
  const { token, admin } = login;
  const socket = useMemo(() => connect(token), [token]);
  const connection = useConnection(socket);
  const [refreshKey, setRefreshKey] = useState(0);
  const { labels, reload: reloadLabels } = useLabels(token);
  const refresh = useCallback(() => setRefreshKey((k) => k + 1), []);
  const expired = useCallback(() => {
    forget();
    onSignedOut(login.host ? 'Your sign-in from your application ended: open the dashboard from it again.' : null);
  }, [onSignedOut, login.host]);

  useEffect(() => {
    const refused = (err) => err.message === 'authentication required' && expired();
    socket.on('connect_error', refused);
    return () => {
      socket.off('connect_error', refused);
      socket.close();
    };
  }, [socket, expired]);

  return (
    <div className="flex h-screen flex-col bg-white text-slate-900" style={{ '--accent': '#2563eb' }}>
      <header className="flex items-center justify-between bg-slate-900 px-4 py-2 text-white">
        <a
          href="/admin"
          onClick={(e) => {
            e.preventDefault();
            navigate('/admin');
          }}
          className="font-semibold"
        >
          Support inbox
        </a>
        <div className="flex items-center gap-3 text-sm">
          <SearchBox initial={page === 'search' ? query.get('q') : ''} />
          {[
            ['/admin/reports', 'Reports'],
            ['/admin/blocked', 'Blocked visitors'],
            ...(admin.permissions?.viewAudit ? [['/admin/audit', 'Audit log']] : []),
          ].map(([href, label]) => (
            <a
              key={href}
              href={href}
              onClick={(e) => {
                e.preventDefault();
                navigate(href);
              }}
              className="text-xs underline"
            >
              {label}
            </a>
          ))}
          <span className="hidden sm:inline">{admin.name}</span>
          <button
            type="button"
            onClick={async () => {
              await logout(token);
              onSignedOut(null);
            }}
            className="rounded border border-white/40 px-2 py-1 text-xs focus:outline-none focus:ring-2 focus:ring-white"
          >
            Log out
          </button>
        </div>
      </header>
      <ConnectionBanner status={connection} />
      <div className="flex min-h-0 flex-1">
        <div className={`w-full border-r md:block md:w-80 ${selectedId ? 'hidden' : ''}`}>
          <Inbox
            token={token}
            socket={socket}
            me={admin.id}
            labels={labels}
            selectedId={selectedId}
            refreshKey={refreshKey}
            onUnauthorized={expired}
          />
        </div>
        <main className={`min-w-0 flex-1 ${selectedId ? '' : 'hidden md:block'}`}>
          {page === 'search' ? (
            <Search token={token} q={query.get('q') ?? ''} />
          ) : page === 'audit' ? (
            <AuditLog token={token} />
          ) : page === 'blocked' ? (
            <BlockedVisitors token={token} />
          ) : page === 'reports' ? (
            <Reports token={token} me={admin.id} />
          ) : selectedId ? (
            <ChatView
              key={selectedId}
              token={token}
              socket={socket}
              me={admin.id}
              permissions={admin.permissions}
              conversationId={selectedId}
              focusMessageId={query.get('message')}
              focusSeq={query.has('seq') ? Number(query.get('seq')) : undefined}
              labels={labels}
              onLabelsChanged={reloadLabels}
              onRead={refresh}
              onErased={() => {
                refresh();
                navigate('/admin');
              }}
              onUnauthorized={expired}
            />
          ) : (
            <p className="p-6 text-sm text-slate-500">Choose a conversation on the left.</p>
          )}
        </main>
      </div>
    </div>
  );
}

export function AdminApp() {
  const path = usePath();
  const query = useQuery();
  const [login, setLogin] = useState(storedLogin);
  // Opened by the host application with its token: signing in with it comes first.
  const [linked, setLinked] = useState(tokenFromLink);
  const [linkError, setLinkError] = useState(null);
  const onLoginPage = path === '/admin/login';
  const signedOut = useCallback((why = null) => {
    setLinkError(why);
    setLogin(null);
  }, []);

  useEffect(() => {
    if (!linked) return;
    const refused = (e) => {
      // Whoever was signed in here before is not who the application sent.
      forget();
      setLogin(null);
      setLinkError(`The sign-in from your application was refused: ${e.message}`);
    };
    loginWithToken(linked).then(setLogin, refused).finally(() => setLinked(null));
  }, [linked]);

  useEffect(() => {
    if (linked) return;
    if (!login && !onLoginPage) navigate('/admin/login', { replace: true });
    if (login && onLoginPage) navigate('/admin', { replace: true });
  }, [login, onLoginPage, linked]);

  if (linked) {
    return <p role="status" className="p-6 text-slate-600">Signing in…</p>;
  }
  if (!login || onLoginPage) {
    return <Login onLoggedIn={setLogin} notice={linkError} />;
  }
  const selectedId = path.match(/^\/admin\/chat\/([^/]+)$/)?.[1] ?? null;
  const page = { '/admin/blocked': 'blocked', '/admin/reports': 'reports', '/admin/search': 'search', '/admin/audit': 'audit' }[path] ?? null;
  return <Dashboard login={login} selectedId={selectedId} page={page} query={query} onSignedOut={signedOut} />;
}
