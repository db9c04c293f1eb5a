/** The canvas's node components: one per category (nodes.tsx), and frames for group-like nodes. */
import { nodeTypes } from "../nodes";
import { FrameNode } from "./FrameNode";

export const canvasNodeTypes = { ...nodeTypes, frame: FrameNode };
