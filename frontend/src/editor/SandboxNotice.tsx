/** In a code node's panel, when this server cannot run code nodes fully isolated (issue 25, item 12 of the list): why, and the fix. */
import { appConfig } from "../app/config";
import { Icon } from "../ui/Icon";

export function SandboxNotice() {
  const sandbox = appConfig().sandbox;
  if (!sandbox) return null;
  return (
    <div className="nf-run-notice nf-run-notice--error" role="alert" aria-label="Code sandbox" style={{ margin: "0 16px 10px" }}>
      <Icon name="alert" size={14} />
      <span>
        {sandbox.mode === "unavailable" ? "Code nodes cannot run on this server yet" : "Code nodes run with weaker isolation here"}: {sandbox.detail}.
        Fix: <code>{sandbox.fix}</code>, then restart NodeFlow.
      </span>
    </div>
  );
}
