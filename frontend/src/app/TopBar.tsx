import type { ReactNode } from "react";
import { csrfToken } from "../api/client";
import { appConfig } from "./config";
import { Link } from "./router";

export function Brand() {
  return (
    <Link to={{ name: "workflows" }} className="nf-brand" aria-label="NodeFlow: your workflows">
      <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="#4f46e5" />
        <path d="M9 11.5h5.5a3 3 0 0 1 3 3v3a3 3 0 0 0 3 3H23" stroke="#c7d2fe" strokeWidth="2" fill="none" strokeLinecap="round" />
        <circle cx="9" cy="11.5" r="3" fill="#fff" />
        <circle cx="23" cy="20.5" r="3" fill="#fff" />
      </svg>
      <span>NodeFlow</span>
    </Link>
  );
}

export function UserMenu() {
  const { user, logoutUrl } = appConfig();
  return (
    <form className="nf-user" method="post" action={logoutUrl}>
      <input type="hidden" name="csrfmiddlewaretoken" value={csrfToken()} />
      <span className="nf-avatar" aria-hidden="true">{user.username.slice(0, 1).toUpperCase()}</span>
      <span className="nf-user-name">{user.username}</span>
      <button type="submit" className="nf-link-button">Sign out</button>
    </form>
  );
}

/** The bar on top of every page; `children` go between the brand and the user. */
export function TopBar({ children }: { children?: ReactNode }) {
  return (
    <header className="nf-topbar">
      <Brand />
      <div className="nf-topbar-middle">{children ?? (
        <>
          <Link to={{ name: "executions" }} className="nf-topbar-link">All executions</Link>
          <Link to={{ name: "variables" }} className="nf-topbar-link">Variables</Link>
        </>
      )}</div>
      <UserMenu />
    </header>
  );
}
