"""The WebSocket consumer of a workflow's stream: the events of every execution of it, as they happen."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from executions import live
from executions.api import ExecutionSerializer
from executions.consumers import REFUSED
from executions.models import Execution
from workflows.models import Workflow


class WorkflowConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/workflows/{id}/`: the events of every execution of a workflow, as they happen."""

    async def connect(self):
        self.workflow_id = self.scope["url_route"]["kwargs"]["workflow_id"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await self._owns(user):
            await self.close(code=REFUSED)
            return
        await self.channel_layer.group_add(live.workflow_group(self.workflow_id), self.channel_name)
        await self.accept()
        await self.send_json({"type": "SNAPSHOT", "executions": await self._recent()})

    async def disconnect(self, code):
        await self.channel_layer.group_discard(live.workflow_group(self.workflow_id), self.channel_name)

    async def execution_events(self, message):
        events = [dict(event, execution_id=message["execution_id"]) for event in message["events"]]
        await self.send_json(events[0] if len(events) == 1 else events)

    @database_sync_to_async
    def _owns(self, user):
        return Workflow.objects.filter(pk=self.workflow_id, owner=user).exists()

    @database_sync_to_async
    def _recent(self):
        executions = Execution.objects.filter(workflow_id=self.workflow_id).order_by("-created_at")[:20]
        return ExecutionSerializer(executions, many=True).data
