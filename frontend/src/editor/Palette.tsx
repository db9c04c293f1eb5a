/** The palette: node types from the catalog, grouped by category, searchable; drag onto the canvas or click to add. */
import { useMemo, useState, type DragEvent } from "react";
import { Icon, nodeIcon } from "../ui/Icon";
import { PALETTE_MIME } from "./Canvas";
import { useEditorContext } from "./context";

export function Palette() {
  const { catalog, actions } = useEditorContext();
  const [search, setSearch] = useState("");
  const groups = useMemo(() => catalog.palette(search), [catalog, search]);

  const dragStart = (event: DragEvent, type: string) => {
    event.dataTransfer.setData(PALETTE_MIME, type);
    event.dataTransfer.setData("text/plain", type);
    event.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="nf-palette" aria-label="Node types">
      <div className="nf-palette-search">
        <Icon name="search" />
        <input type="search" placeholder="Search nodes" aria-label="Search nodes" value={search} onChange={(event) => setSearch(event.target.value)} />
      </div>
      <div className="nf-palette-groups">
        {groups.map((group) => (
          <section key={group.category} className="nf-palette-group">
            <h3>{group.title}</h3>
            {group.entries.map((entry) => (
              <button type="button" key={entry.type} className={`nf-palette-item nf-palette-item--${entry.category}`} draggable
                data-node-type={entry.type} title={`${entry.description}\n\nDrag onto the canvas, or click to add.`}
                onDragStart={(event) => dragStart(event, entry.type)} onClick={() => actions.addNode(entry.type)}>
                <span className="nf-palette-icon"><Icon name={nodeIcon(entry.type, entry.category)} /></span>
                <span className="nf-palette-text">
                  <span className="nf-palette-title">{entry.title}</span>
                  <span className="nf-palette-desc">{firstSentence(entry.description) || entry.type}</span>
                </span>
              </button>
            ))}
          </section>
        ))}
        {groups.length === 0 && <p className="nf-muted nf-small nf-pad">No node type matches “{search}”.</p>}
      </div>
    </aside>
  );
}

function firstSentence(text: string): string {
  const match = /^(.*?[.!?])(\s|$)/.exec(text);
  return match ? match[1] : text;
}
