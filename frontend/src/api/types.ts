/** Names for the API's types, generated from the OpenAPI schema (schema.d.ts: `npm run api-types`). */
import type { components } from "./schema";

type Schemas = components["schemas"];

export type Workflow = Schemas["Workflow"];
export type SavedWorkflow = Schemas["SavedWorkflow"];
export type Listening = Schemas["Listen"];
export type ImportedWorkflow = Schemas["ImportedWorkflow"];
export type ImportReport = Schemas["ImportReport"];
export type ImportFormat = Schemas["FormatEnum"];
export type WorkflowDocument = Schemas["WorkflowDocument"];
export type DocNode = WorkflowDocument["nodes"][number];
export type DocEdge = NonNullable<WorkflowDocument["edges"]>[number];
export type NodeTypeEntry = Schemas["NodeType"];
export type Problem = Schemas["Problem"];
export type ValidationResult = Schemas["ValidationResult"];
export type Trigger = Schemas["Trigger"];
export type Version = Schemas["Version"];
export type VersionDetail = Schemas["VersionDetail"];
export type Execution = Schemas["Execution"];
export type ExecutionDefinition = Schemas["ExecutionDefinition"];
export type ExecutionContext = Schemas["Context"];
export type ExecutionStatus = NonNullable<Execution["status"]>;
/** A node run's status: what the canvas shows on a node while an execution is watched (issue 11). */
export type NodeRunStatus = NonNullable<Schemas["NodeRun"]["status"]>;
export type Paginated<T> = { count: number; next?: string | null; previous?: string | null; results: T[] };
export type ApiErrorBody = Schemas["Error"];
