/**
 * The Tests tab of the workflow panel (DEBUGGING.md workflow tests): the draft's cases, a case made from
 * the latest run (its input, status and result), run all, and each failure with its path, expected and actual.
 */
import { useState } from "react";
import { api } from "../../api/client";
import { caseFromRun, testsOf, withTestCase, withoutTestCase } from "../../document/debugging";
import { Button } from "../../ui/Button";
import { Icon } from "../../ui/Icon";
import { toast } from "../../ui/overlays";
import { useEditorContext, useEditorState } from "../context";
import { debugApi, type TestReport } from "./debugApi";
import "../../styles/debugging.css";

function show(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? "nothing" : text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

export function TestsPanel() {
  const { store } = useEditorContext();
  const workflowId = useEditorState((state) => String(state.workflow.id));
  const tests = testsOf(useEditorState((state) => state.history.present));
  const [report, setReport] = useState<TestReport | null>(null);
  const [busy, setBusy] = useState<"add" | "run" | null>(null);

  const addFromLatest = async () => {
    setBusy("add");
    try {
      const latest = await debugApi.latestRun(workflowId);
      if (!latest) throw new Error("Run the workflow first: a case takes the latest run's input and result.");
      const run = await api.executions.get(String(latest.id));
      store.edit((doc) => withTestCase(doc, caseFromRun(run, testsOf(doc).map((test) => test.name))), "tests");
      if (!(await store.save())) throw new Error("The draft could not be saved.");
      toast("Test case added from the latest run.");
    } catch (reason) {
      toast(reason instanceof Error ? reason.message : String(reason), "error");
    } finally {
      setBusy(null);
    }
  };

  const runAll = async () => {
    setBusy("run");
    setReport(null);
    try {
      if (store.isDirty() && !(await store.save())) throw new Error("The draft could not be saved, so the tests did not run.");
      setReport(await debugApi.runTests(workflowId));
    } catch (reason) {
      toast(reason instanceof Error ? reason.message : String(reason), "error");
    } finally {
      setBusy(null);
    }
  };

  const results = new Map((report?.cases ?? []).map((result) => [result.name, result]));
  return (
    <div className="nf-tests" aria-label="Workflow tests">
      <p className="nf-muted nf-small">Each case runs the draft with its input (and pins) and checks the run against what it expects.</p>
      <div className="nf-debug-buttons">
        <Button size="small" icon="plus" disabled={busy !== null} onClick={() => void addFromLatest()}>Add case from the latest run</Button>
        <Button size="small" icon="play" variant="primary" disabled={busy !== null || !tests.length} onClick={() => void runAll()}>
          {busy === "run" ? "Running…" : "Run all"}
        </Button>
      </div>
      {report && <p className={`nf-tests-summary ${report.failed ? "is-failed" : "is-passed"}`} data-testid="tests-summary">{report.passed} passed, {report.failed} failed</p>}
      {!tests.length && <p className="nf-muted">No test cases yet.</p>}
      <ul className="nf-test-cases">
        {tests.map((test) => {
          const result = results.get(test.name);
          return (
            <li key={test.name} className={`nf-test-case ${result ? (result.ok ? "is-passed" : "is-failed") : ""}`} data-test-case={test.name}>
              <div className="nf-test-case-head">
                {result && <Icon name={result.ok ? "check" : "alert"} size={14} />}
                <strong>{test.name}</strong>
                <span className="nf-muted nf-small">expects {Object.keys(test.expect ?? {}).join(", ") || "nothing"}</span>
                <button type="button" className="nf-link-button" aria-label={`Delete case ${test.name}`}
                  onClick={() => store.edit((doc) => withoutTestCase(doc, test.name), "tests")}>Delete</button>
              </div>
              {result && !result.ok && (
                <table className="nf-test-failures" aria-label={`Failures of ${test.name}`}>
                  <thead><tr><th>Path</th><th>Expected</th><th>Actual</th></tr></thead>
                  <tbody>
                    {result.failures.map((failure, index) => (
                      <tr key={index} data-failure-path={failure.path}>
                        <td>{failure.path}</td><td>{show(failure.expected)}</td><td>{failure.missing ? "missing" : show(failure.actual)}{failure.error ? ` (${failure.error})` : ""}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
