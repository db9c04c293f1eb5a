/** A small history-API router: the current route, navigation, and a guard for unsaved work. */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";
import { appConfig } from "./config";
import { parseRoute, routeUrl, type Route } from "./routes";

const listeners = new Set<() => void>();
/** Asked before an in-app navigation; false keeps the user where they are. */
let guard: (() => Promise<boolean>) | null = null;

function notify() {
  for (const listener of listeners) listener();
}

window.addEventListener("popstate", notify);

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function currentPath() {
  return window.location.pathname;
}

export function useRoute(): Route {
  const path = useSyncExternalStore(subscribe, currentPath);
  return parseRoute(path, appConfig().baseUrl);
}

export function urlOf(route: Route): string {
  return routeUrl(route, appConfig().baseUrl);
}

export async function navigate(to: Route | string, options: { replace?: boolean; force?: boolean } = {}): Promise<void> {
  const url = typeof to === "string" ? to : urlOf(to);
  if (!options.force && guard && !(await guard())) return;
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  notify();
}

export function setNavigationGuard(next: (() => Promise<boolean>) | null): void {
  guard = next;
}

export function Link({ to, ...props }: { to: Route } & AnchorHTMLAttributes<HTMLAnchorElement>) {
  const href = urlOf(to);
  const onClick = (event: MouseEvent<HTMLAnchorElement>) => {
    props.onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    void navigate(to);
  };
  return <a {...props} href={href} onClick={onClick} />;
}
