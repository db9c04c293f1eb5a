/**
 * The editor's state and use cases: the document with its undo history, selection,
 * saving (on demand and autosave after a pause), live validation by the server,
 * publishing. Plain TypeScript with the API injected, so it is unit-tested without a
 * browser; React reads it through `useEditor`.
 */
import { ApiError } from "../api/client";
import type { SavedWorkflow, ValidationResult, VersionDetail, Workflow } from "../api/types";
import { nodeAt } from "../document/groups";
import { commitSince, historyOf, pushHistory, redo, replacePresent, undo, type History } from "../document/history";
import { isDrawableNode, nodesOf, type Problem, type WorkflowDocument } from "../document/types";
import { sameContent } from "../executions/revision";
import { warningsOf } from "../variables/values";

export interface EditorApi {
  /** `revision`: the one the draft was edited on; the server answers 409 `revision_conflict` when it moved on. */
  save(id: string, body: { definition: WorkflowDocument; revision?: number }): Promise<SavedWorkflow>;
  validate(definition: WorkflowDocument, init?: RequestInit): Promise<ValidationResult>;
  publish(id: string): Promise<VersionDetail>;
  unpublish(id: string): Promise<Workflow>;
  /** The workflow as stored now (its triggers' URLs and next runs follow publishing). */
  get(id: string): Promise<Workflow>;
}

export interface Notice {
  id: number;
  kind: "info" | "error";
  text: string;
}

export interface EditorState {
  workflow: Workflow;
  history: History<WorkflowDocument>;
  /** The document as the server last stored it. */
  saved: WorkflowDocument;
  saving: boolean;
  saveError: string | null;
  savedAt: number | null;
  /** The server's validation problems, and the document they were found in. */
  problems: Problem[];
  problemsOf: WorkflowDocument | null;
  /** What may fail at run time without making the document invalid (a global variable not there yet). */
  warnings: Problem[];
  selectedNodes: ReadonlySet<string>;
  selectedEdges: ReadonlySet<string>;
  publishing: boolean;
  /** The draft revision the published version was made from (null: not published, or not known yet). */
  publishedRevision: number | null;
  /** The published version's document, once known: the draft has no unpublished changes when it is the same. */
  publishedDefinition: WorkflowDocument | null;
  notice: Notice | null;
  /** Another tab or client saved the draft since this one was loaded: their workflow, until the user chooses. */
  conflict: { theirs: Workflow } | null;
}

export interface EditorOptions {
  /** Autosave after this long without an edit. */
  autosaveMs?: number;
  /** Ask the server to validate after this long without an edit. */
  validateMs?: number;
}

const EMPTY: ReadonlySet<string> = new Set();

/** Whether two documents are the same JSON (identity first: the usual case). */
export function sameDocument(a: WorkflowDocument, b: WorkflowDocument): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

export class EditorStore {
  private state: EditorState;
  private readonly listeners = new Set<() => void>();
  private readonly api: EditorApi;
  private readonly autosaveMs: number;
  private readonly validateMs: number;
  private autosaveTimer: ReturnType<typeof setTimeout> | null = null;
  private validateTimer: ReturnType<typeof setTimeout> | null = null;
  private validateController: AbortController | null = null;
  private dragStart: WorkflowDocument | null = null;
  private saving: Promise<boolean> | null = null;
  private noticeId = 0;
  private dirtyCache: { present: WorkflowDocument; saved: WorkflowDocument; dirty: boolean } | null = null;
  private disposed = false;

  constructor(workflow: Workflow, api: EditorApi, options: EditorOptions = {}) {
    const doc = workflow.definition as WorkflowDocument;
    this.api = api;
    this.autosaveMs = options.autosaveMs ?? 2500;
    this.validateMs = options.validateMs ?? 350;
    this.state = {
      workflow,
      history: historyOf(doc),
      saved: doc,
      saving: false,
      saveError: null,
      savedAt: null,
      problems: [],
      problemsOf: null,
      warnings: [],
      selectedNodes: EMPTY,
      selectedEdges: EMPTY,
      publishing: false,
      publishedRevision: null,
      publishedDefinition: null,
      notice: null,
      conflict: null,
    };
  }

  // -- reading -------------------------------------------------------------------------

  getState = (): EditorState => this.state;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  get doc(): WorkflowDocument {
    return this.state.history.present;
  }

  isDirty(): boolean {
    const { present } = this.state.history;
    const { saved } = this.state;
    const cache = this.dirtyCache;
    if (cache && cache.present === present && cache.saved === saved) return cache.dirty;
    const dirty = !sameDocument(present, saved);
    this.dirtyCache = { present, saved, dirty };
    return dirty;
  }

  canUndo(): boolean {
    return this.state.history.past.length > 0;
  }

  canRedo(): boolean {
    return this.state.history.future.length > 0;
  }

  private set(partial: Partial<EditorState>) {
    if (this.disposed) return;
    this.state = { ...this.state, ...partial };
    for (const listener of this.listeners) listener();
  }

  notify(text: string, kind: Notice["kind"] = "info") {
    this.set({ notice: { id: ++this.noticeId, kind, text } });
  }

  setPublishedRevision(revision: number | null) {
    this.set({ publishedRevision: revision });
  }

  setPublishedDefinition(definition: WorkflowDocument | null) {
    this.set({ publishedDefinition: definition });
  }

  /** Whether the draft differs from the published version (true when that is not known). */
  hasUnpublishedChanges(): boolean {
    const { workflow, publishedRevision, publishedDefinition } = this.state;
    if (!workflow.published_version) return true;
    // By content when the published document is known: undo back to it leaves nothing to publish.
    if (publishedDefinition) return !sameContent(this.doc, publishedDefinition);
    if (publishedRevision === null) return true;
    return this.isDirty() || workflow.revision !== publishedRevision;
  }

  dismissNotice() {
    this.set({ notice: null });
  }

  // -- editing -------------------------------------------------------------------------

  /** Applies an edit as one undo step (edits with the same `key` in quick succession merge). */
  edit(update: (doc: WorkflowDocument) => WorkflowDocument, key?: string): void {
    const next = update(this.doc);
    if (next === this.doc) return;
    this.set({ history: pushHistory(this.state.history, next, { key }) });
    this.changed();
  }

  /** A drag in progress: positions change without undo steps until `endDrag`. */
  beginDrag() {
    this.dragStart = this.doc;
    this.clearAutosave();
  }

  dragTo(next: WorkflowDocument) {
    if (next === this.doc) return;
    if (this.dragStart === null) this.dragStart = this.doc;
    this.set({ history: replacePresent(this.state.history, next) });
  }

  endDrag() {
    const before = this.dragStart;
    this.dragStart = null;
    if (before === null || before === this.doc) return;
    this.set({ history: commitSince(this.state.history, before) });
    this.changed();
  }

  undo() {
    if (!this.canUndo()) return;
    this.set({ history: undo(this.state.history) });
    this.pruneSelection();
    this.changed();
  }

  redo() {
    if (!this.canRedo()) return;
    this.set({ history: redo(this.state.history) });
    this.pruneSelection();
    this.changed();
  }

  select(nodes: Iterable<string>, edges: Iterable<string> = []) {
    const selectedNodes = new Set(nodes);
    const selectedEdges = new Set(edges);
    if (sameSet(selectedNodes, this.state.selectedNodes) && sameSet(selectedEdges, this.state.selectedEdges)) return;
    this.set({ selectedNodes, selectedEdges });
  }

  private pruneSelection() {
    const ids = new Set(nodesOf(this.doc).filter(isDrawableNode).map((node) => node.id));
    // A node inside a group's or a loop's body is selected by its scoped id (document/groups.ts).
    const kept = [...this.state.selectedNodes].filter((id) => ids.has(id) || (id.includes("/") && nodeAt(this.doc, id) !== undefined));
    if (kept.length !== this.state.selectedNodes.size) this.select(kept, []);
  }

  /** After every change of the document: validate soon, autosave later. */
  private changed() {
    this.scheduleValidation();
    this.scheduleAutosave();
  }

  // -- validation ----------------------------------------------------------------------

  scheduleValidation(delay = this.validateMs) {
    if (this.validateTimer) clearTimeout(this.validateTimer);
    this.validateTimer = setTimeout(() => void this.validate(), delay);
  }

  /** Asks the server about the current document; an answer about an older document is dropped. */
  async validate(): Promise<void> {
    this.validateTimer = null;
    const doc = this.doc;
    if (this.state.problemsOf === doc) return;
    this.validateController?.abort();
    const controller = new AbortController();
    this.validateController = controller;
    try {
      const result = await this.api.validate(doc, { signal: controller.signal });
      if (this.doc === doc) this.set({ problems: result.errors, problemsOf: doc, warnings: warningsOf(result) });
    } catch (error) {
      if (controller.signal.aborted) return;
      if (this.doc === doc) this.notify(`Could not validate: ${messageOf(error)}`, "error");
    }
  }

  // -- saving --------------------------------------------------------------------------

  private clearAutosave() {
    if (this.autosaveTimer) clearTimeout(this.autosaveTimer);
    this.autosaveTimer = null;
  }

  private scheduleAutosave() {
    this.clearAutosave();
    if (this.state.conflict) return; // nothing is saved until the user has chosen
    this.autosaveTimer = setTimeout(() => {
      this.autosaveTimer = null;
      if (this.dragStart === null) void this.save();
    }, this.autosaveMs);
  }

  /** Saves the draft if it changed; resolves to whether the server has the current document. */
  save(): Promise<boolean> {
    this.clearAutosave();
    if (!this.saving) {
      this.saving = this.saveUntilClean().finally(() => {
        this.saving = null;
      });
    }
    return this.saving;
  }

  /** One save at a time; edits made while a save is in flight are saved by the next round. */
  private async saveUntilClean(): Promise<boolean> {
    while (this.isDirty() && this.dragStart === null) {
      if (!(await this.saveOnce())) return false;
    }
    return !this.isDirty();
  }

  private async saveOnce(): Promise<boolean> {
    const doc = this.doc;
    this.set({ saving: true });
    try {
      const answer = await this.api.save(this.state.workflow.id, { definition: doc, revision: this.state.workflow.revision });
      const { validation, ...workflow } = answer;
      const stored = (answer.definition ?? doc) as WorkflowDocument;
      const partial: Partial<EditorState> = { workflow, saving: false, saveError: null, savedAt: Date.now(), saved: doc };
      if (this.doc === doc) {
        // The server may normalise the document (a node's version recorded): take its copy.
        if (!sameDocument(stored, doc)) {
          partial.history = replacePresent(this.state.history, stored);
          partial.saved = stored;
        }
        partial.problems = validation.errors;
        partial.problemsOf = partial.saved;
        partial.warnings = warningsOf(validation);
      }
      this.set(partial);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.code === "revision_conflict") return this.conflicted(error);
      this.set({ saving: false, saveError: messageOf(error) });
      this.notify(`Not saved: ${messageOf(error)}`, "error");
      return false;
    }
  }

  /** A save refused because the draft moved on elsewhere: fetch theirs and let the user choose. */
  private async conflicted(error: ApiError): Promise<boolean> {
    const saveError = "Saved elsewhere since: choose which version to keep";
    try {
      const theirs = await this.api.get(this.state.workflow.id);
      this.set({ saving: false, saveError, conflict: { theirs } });
    } catch {
      this.set({ saving: false, saveError: messageOf(error) });
      this.notify(`Not saved: ${messageOf(error)}`, "error");
    }
    return false;
  }

  /** Conflict resolved by keeping this tab's draft: saved over theirs (their revision becomes the base). */
  async keepMine(): Promise<boolean> {
    const conflict = this.state.conflict;
    if (!conflict) return false;
    this.set({ conflict: null, saveError: null, workflow: { ...this.state.workflow, revision: conflict.theirs.revision } });
    return this.save();
  }

  /** Conflict resolved by taking the other version: it becomes the draft (one undo step brings this tab's back). */
  takeTheirs(): void {
    const conflict = this.state.conflict;
    if (!conflict) return;
    const theirs = conflict.theirs.definition as WorkflowDocument;
    this.set({
      conflict: null,
      saveError: null,
      workflow: conflict.theirs,
      saved: theirs,
      history: sameDocument(theirs, this.doc) ? this.state.history : pushHistory(this.state.history, theirs),
      savedAt: Date.now(),
    });
    this.pruneSelection();
    this.scheduleValidation();
  }

  // -- publishing ----------------------------------------------------------------------

  async publish(): Promise<boolean> {
    if (this.state.publishing) return false;
    if (!(await this.save())) return false;
    if (this.state.problemsOf !== this.doc) await this.validate();
    if (this.state.problems.length) {
      this.notify("Fix the problems before publishing.", "error");
      return false;
    }
    this.set({ publishing: true });
    try {
      const version = await this.api.publish(this.state.workflow.id);
      this.set({
        publishing: false,
        workflow: { ...this.state.workflow, published_version: version.number, active: true },
        publishedRevision: version.revision,
        publishedDefinition: (version.definition as WorkflowDocument | undefined) ?? null,
      });
      this.notify(`Published version ${version.number}: triggers now run it.`);
      void this.refreshWorkflow();
      return true;
    } catch (error) {
      const partial: Partial<EditorState> = { publishing: false };
      if (error instanceof ApiError && error.code === "invalid_workflow" && Array.isArray(error.details)) {
        partial.problems = error.details as Problem[];
        partial.problemsOf = this.doc;
      }
      this.set(partial);
      this.notify(`Not published: ${messageOf(error)}`, "error");
      return false;
    }
  }

  /** Takes the server's view of the workflow's metadata (triggers, versions); the draft stays as edited. */
  async refreshWorkflow(): Promise<void> {
    try {
      const workflow = await this.api.get(this.state.workflow.id);
      // The draft's base revision stays: taking the server's would let the next save overwrite another tab's.
      this.set({ workflow: { ...workflow, definition: this.state.workflow.definition, revision: this.state.workflow.revision } });
    } catch {
      // Metadata only: the next save brings it anyway.
    }
  }

  async unpublish(): Promise<boolean> {
    if (this.state.publishing) return false;
    this.set({ publishing: true });
    try {
      const workflow = await this.api.unpublish(this.state.workflow.id);
      this.set({ publishing: false, publishedRevision: null, publishedDefinition: null, workflow: { ...workflow, definition: this.state.workflow.definition, revision: this.state.workflow.revision } });
      this.notify("Unpublished: triggers no longer start this workflow.");
      return true;
    } catch (error) {
      this.set({ publishing: false });
      this.notify(`Not unpublished: ${messageOf(error)}`, "error");
      return false;
    }
  }

  dispose() {
    this.clearAutosave();
    if (this.validateTimer) clearTimeout(this.validateTimer);
    this.validateController?.abort();
    this.disposed = true;
    this.listeners.clear();
  }
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const value of a) if (!b.has(value)) return false;
  return true;
}
