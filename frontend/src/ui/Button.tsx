import type { ButtonHTMLAttributes, ReactNode } from "react";
import { Icon } from "./Icon";

type Variant = "primary" | "secondary" | "ghost" | "danger";

export function Button({
  variant = "secondary",
  icon,
  children,
  className,
  size,
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant; icon?: string; size?: "small"; children?: ReactNode }) {
  return (
    <button type="button" {...props} className={`nf-button nf-button--${variant} ${size ? `nf-button--${size}` : ""} ${className ?? ""}`}>
      {icon && <Icon name={icon} />}
      {children}
    </button>
  );
}

/** A square button with only an icon; `label` is its accessible name and tooltip. */
export function IconButton({ icon, label, ...props }: ButtonHTMLAttributes<HTMLButtonElement> & { icon: string; label: string }) {
  return (
    <button type="button" aria-label={label} title={props.title ?? label} {...props} className={`nf-icon-button ${props.className ?? ""}`}>
      <Icon name={icon} />
    </button>
  );
}
