/** Dialogs (confirm, prompt) and toasts, opened from anywhere and drawn by one host in the app. */
import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent } from "react";
import { Button } from "./Button";
import { Icon } from "./Icon";

interface DialogRequest {
  kind: "confirm" | "prompt" | "choice";
  title: string;
  message?: string;
  confirmLabel?: string;
  danger?: boolean;
  label?: string;
  initial?: string;
  /** For "choice": the buttons, first is the primary one. */
  choices?: { value: string; label: string; variant?: "primary" | "secondary" | "danger" }[];
  resolve: (value: string | null) => void;
}

interface Toast {
  id: number;
  kind: "info" | "error";
  text: string;
}

let dialog: DialogRequest | null = null;
let toasts: Toast[] = [];
let nextToast = 0;
const listeners = new Set<() => void>();
const emit = () => listeners.forEach((listener) => listener());
const subscribe = (listener: () => void) => {
  listeners.add(listener);
  return () => listeners.delete(listener);
};

function open(request: Omit<DialogRequest, "resolve">): Promise<string | null> {
  return new Promise((resolve) => {
    dialog?.resolve(null);
    dialog = {
      ...request,
      resolve: (value) => {
        dialog = null;
        emit();
        resolve(value);
      },
    };
    emit();
  });
}

export async function confirmDialog(options: { title: string; message?: string; confirmLabel?: string; danger?: boolean }): Promise<boolean> {
  return (await open({ kind: "confirm", ...options })) === "yes";
}

export function promptDialog(options: { title: string; label: string; initial?: string; confirmLabel?: string; message?: string }): Promise<string | null> {
  return open({ kind: "prompt", ...options });
}

export function choiceDialog(options: { title: string; message?: string; choices: NonNullable<DialogRequest["choices"]> }): Promise<string | null> {
  return open({ kind: "choice", ...options });
}

export function toast(text: string, kind: Toast["kind"] = "info"): void {
  const item = { id: ++nextToast, kind, text };
  toasts = [...toasts, item].slice(-4);
  emit();
  setTimeout(() => {
    toasts = toasts.filter((other) => other !== item);
    emit();
  }, kind === "error" ? 8000 : 4000);
}

function DialogView({ request }: { request: DialogRequest }) {
  const [value, setValue] = useState(request.initial ?? "");
  const input = useRef<HTMLInputElement>(null);
  const primary = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (input.current) {
      input.current.focus();
      input.current.select();
    } else primary.current?.focus();
  }, []);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") request.resolve(null);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [request]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (request.kind === "prompt") {
      if (value.trim()) request.resolve(value.trim());
    } else request.resolve(request.kind === "choice" ? request.choices![0].value : "yes");
  };
  return (
    <div className="nf-modal-backdrop" onMouseDown={(event) => event.target === event.currentTarget && request.resolve(null)}>
      <form className="nf-modal" role="dialog" aria-modal="true" aria-labelledby="nf-dialog-title" onSubmit={submit}>
        <h2 id="nf-dialog-title">{request.title}</h2>
        {request.message && <p className="nf-modal-message">{request.message}</p>}
        {request.kind === "prompt" && (
          <label className="nf-field">
            <span className="nf-field-label">{request.label}</span>
            <input ref={input} className="nf-input" value={value} onChange={(event) => setValue(event.target.value)} maxLength={200} />
          </label>
        )}
        <div className="nf-modal-actions">
          {request.kind === "choice" ? (
            <>
              <Button onClick={() => request.resolve(null)}>Cancel</Button>
              {request.choices!.slice(1).map((choice) => (
                <Button key={choice.value} variant={choice.variant ?? "secondary"} onClick={() => request.resolve(choice.value)}>{choice.label}</Button>
              ))}
              <button ref={primary} type="submit" className={`nf-button nf-button--${request.choices![0].variant ?? "primary"}`}>{request.choices![0].label}</button>
            </>
          ) : (
            <>
              <Button onClick={() => request.resolve(null)}>Cancel</Button>
              <button ref={primary} type="submit" className={`nf-button nf-button--${request.danger ? "danger" : "primary"}`} disabled={request.kind === "prompt" && !value.trim()}>
                {request.confirmLabel ?? "OK"}
              </button>
            </>
          )}
        </div>
      </form>
    </div>
  );
}

export function OverlayHost() {
  const current = useSyncExternalStore(subscribe, () => dialog);
  const shown = useSyncExternalStore(subscribe, () => toasts);
  return (
    <>
      {current && <DialogView key={current.title + current.kind} request={current} />}
      <div className="nf-toasts" role="status" aria-live="polite">
        {shown.map((item) => (
          <div key={item.id} className={`nf-toast nf-toast--${item.kind}`}>
            <Icon name={item.kind === "error" ? "alert" : "check"} />
            <span>{item.text}</span>
          </div>
        ))}
      </div>
    </>
  );
}
