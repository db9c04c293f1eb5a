"""Importing workflows from other engines' formats (IMPORT.md): n8n and stageflow documents become
nodeflow/v1 drafts, with a report of what was translated and what was not."""
