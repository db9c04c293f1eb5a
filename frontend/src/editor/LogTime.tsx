/** A log line's time (issue 25, item 13 of the list): hours to milliseconds, the full timestamp on hover. */
export function LogTime({ ts }: { ts?: unknown }) {
  if (typeof ts !== "string" && typeof ts !== "number") return null;
  const date = new Date(typeof ts === "number" && ts < 1e12 ? ts * 1000 : ts);
  if (Number.isNaN(date.getTime())) return null;
  const pad = (value: number, size = 2) => String(value).padStart(size, "0");
  const text = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
  return <time className="nf-log-time" dateTime={date.toISOString()} title={date.toLocaleString()}>{text}</time>;
}
