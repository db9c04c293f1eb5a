"""The Redis broker transport, with one fix to kombu's — a worker survives Redis going away — and
one saving: a channel publishes through one Redis client instead of a new one per message.

When a worker loses its broker connection, Celery's consumer first collects the connection
(kombu clears its transport's `client`) and then closes it; closing the channel puts the
messages it still held unacknowledged back on their queues, and kombu (5.7) builds a new
Redis client for that from the cleared `client`: AttributeError, which Celery does not take
for a connection error, so the worker exits (seen in tests/chaos/test_redis.py on every Redis
restart); an acknowledgement after the reconnection, for a message of the old channel, fails
the same way. Here both are skipped when the connection is already gone: the messages stay
in Redis's unacknowledged set, which hands them out again after the visibility timeout, and
recovery (executions.recovery) sends their node runs again long before that.

`CELERY_BROKER_TRANSPORT` names this transport when the broker is Redis (nodeflow.settings)."""

import logging

from kombu.transport import redis

logger = logging.getLogger("nodeflow.broker")


class QoS(redis.QoS):
    """kombu's Redis QoS, doing nothing with a connection that is gone instead of failing on it.

    Besides the restore at close, an acknowledgement that comes after the reconnection for a
    message of the old channel (a task that finished meanwhile, acks_late) meets the same
    cleared connection. Skipped, that message stays unacknowledged in Redis, which hands it out
    again after the visibility timeout; the node run it carried has finished, so that delivery
    is ignored (engine.policy.may_claim)."""

    def _connection_gone(self, what, count):
        connection = self.channel.connection
        if connection is not None and connection.client is not None:
            return False
        if count:
            logger.warning("the broker connection is gone: %s of %d message(s) left to Redis (their node runs are "
                           "recovered from the database if they still need to run)", what, count)
        return True

    def restore_unacked(self, client=None):
        if client is None and self._connection_gone("the restore", len(self._delivered)):
            self._delivered.clear()
            return None
        return super().restore_unacked(client)

    def ack(self, delivery_tag):
        if self._connection_gone("the acknowledgement", 1):
            return super(redis.QoS, self).ack(delivery_tag)  # the local bookkeeping only
        return super().ack(delivery_tag)

    def reject(self, delivery_tag, requeue=False):
        if self._connection_gone("the rejection", 1):
            return super(redis.QoS, self).ack(delivery_tag)  # the local bookkeeping only
        return super().reject(delivery_tag, requeue=requeue)


class Channel(redis.Channel):
    QoS = QoS
    _publisher = None

    def _create_client(self, asynchronous=False):
        """The channel's synchronous Redis client, made once per connection pool.

        kombu makes a new one for every message it publishes (and every command outside the
        consumer's BRPOP), and making one fills its table of some 170 response callbacks: more
        CPU than the LPUSH it is for. A redis-py client takes a connection from its pool for each
        command, so one serves every caller; a new pool (after a fork or a reconnection) gets a
        new client. The asynchronous client, the consumer's, is kombu's own (`Channel.client`)."""
        if asynchronous:
            return super()._create_client(asynchronous=True)
        pool = self.pool
        if self._publisher is None or self._publisher.connection_pool is not pool:
            self._publisher = super()._create_client()
        return self._publisher


class Transport(redis.Transport):
    Channel = Channel
