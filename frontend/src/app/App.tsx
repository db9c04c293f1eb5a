import { EditorPage } from "../editor/EditorPage";
import { ExecutionListPage } from "../executions/ExecutionListPage";
import { OverlayHost } from "../ui/overlays";
import { VariablesPage } from "../variables/VariablesPage";
import { WorkflowListPage } from "../workflows/WorkflowListPage";
import { Link, useRoute } from "./router";
import { TopBar } from "./TopBar";

export function App() {
  const route = useRoute();
  let page;
  switch (route.name) {
    case "workflows":
      page = <WorkflowListPage />;
      break;
    case "editor":
      page = <EditorPage key={route.workflowId} workflowId={route.workflowId} />;
      break;
    case "execution":
      page = <EditorPage key={route.workflowId} workflowId={route.workflowId} executionId={route.executionId} />;
      break;
    case "executions":
      page = <ExecutionListPage key={route.workflowId ?? "all"} workflowId={route.workflowId} />;
      break;
    case "variables":
      page = <VariablesPage />;
      break;
    default:
      page = (
        <div className="nf-page">
          <TopBar />
          <main className="nf-empty">
            <h1>Page not found</h1>
            <p>There is nothing at {route.path}.</p>
            <Link to={{ name: "workflows" }} className="nf-button nf-button--primary">Go to your workflows</Link>
          </main>
        </div>
      );
  }
  return (
    <>
      {page}
      <OverlayHost />
    </>
  );
}
