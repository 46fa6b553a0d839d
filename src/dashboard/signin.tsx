import { BASE, Layout, Notice } from "./layout";

/** The sign-in form: one field, "API key". */
export function SignInPage(props: { next: string; error?: string; notice?: string; local?: boolean }) {
  return (
    <Layout title="Sign in">
      <div class="card signin">
        <h1>Sign in</h1>
        <p class="muted">Use one of your tenant's API keys. You will see only your tenant's sandboxes.</p>
        {props.error ? <Notice kind="error">{props.error}</Notice> : null}
        {props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
        <form method="post" action={`${BASE}/sign-in`}>
          <input type="hidden" name="next" value={props.next} />
          <div class="field">
            <label for="api-key">API key</label>
            <input type="password" id="api-key" name="key" autocomplete="current-password" required autofocus spellcheck={false} />
          </div>
          <p>
            <button type="submit">Sign in</button>
          </p>
        </form>
        {props.local ? (
          <p class="small muted">
            Running locally with <code>npm start</code>: the key is <code>sbx_local_dev_key</code>.
          </p>
        ) : null}
      </div>
    </Layout>
  );
}
