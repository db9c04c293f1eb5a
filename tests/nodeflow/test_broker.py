"""The project's Redis broker transport (nodeflow.broker), on the suite's Redis."""

import uuid

from kombu.transport import redis as kombu_redis

from nodeflow import broker
from nodeflow.celery import app


def test_a_channel_publishes_through_one_redis_client_and_a_new_pool_gets_a_new_one(monkeypatch):
    made = []
    create = kombu_redis.Channel._create_client

    def counted(channel, asynchronous=False):
        client = create(channel, asynchronous=asynchronous)
        if not asynchronous:
            made.append(client)
        return client

    monkeypatch.setattr(kombu_redis.Channel, "_create_client", counted)
    queue = f"nodeflow-test-broker-{uuid.uuid4().hex}"
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, broker.Channel)
        producer = connection.Producer(channel)
        for n in range(5):
            producer.publish({"n": n}, exchange="", routing_key=queue)
        assert channel._size(queue) == 5
        assert len(made) == 1  # kombu alone made one per message (and one more for the size)

        channel._disconnect_pools()  # as after a fork: the pool the client used is gone
        producer.publish({"n": 5}, exchange="", routing_key=queue)
        assert len(made) == 2 and made[1].connection_pool is channel.pool
        assert channel._size(queue) == 6
        channel._purge(queue)


def test_celery_is_configured_with_the_celery_settings_of_django(settings):
    from django.conf import settings as django_settings

    from nodeflow import celeryconfig

    assert app.conf.task_acks_late is settings.CELERY_TASK_ACKS_LATE is True
    assert app.conf.task_default_queue == settings.CELERY_TASK_DEFAULT_QUEUE == "default"
    assert app.conf.broker_transport_options == settings.CELERY_BROKER_TRANSPORT_OPTIONS
    assert app.conf.broker_transport_options["global_keyprefix"].startswith("nodeflow-test-")
    assert app.conf.worker_prefetch_multiplier == settings.CELERY_WORKER_PREFETCH_MULTIPLIER
    # Every CELERY_* setting, and nothing else, was copied.
    names = {name for name in vars(celeryconfig) if name.isupper()}
    assert names == {name for name in dir(django_settings) if name.startswith("CELERY_")}


def test_a_node_run_is_sent_with_its_arguments_repr_and_declares_no_queue(monkeypatch):
    from kombu import Producer

    from executions.dispatch import Start
    from executions.tasks import CeleryDispatcher

    declared = []
    monkeypatch.setattr(Producer, "maybe_declare", lambda self, entity, **kwargs: declared.append(entity))
    queue = f"nodeflow-test-dispatch-{uuid.uuid4().hex}"
    CeleryDispatcher().dispatch("e1", [Start("a", queue, None, "task-a", False, 1, True),
                                       Start("b", queue, None, "task-b", False, 1, True)])
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        messages = [channel.message_to_python(channel._get(queue)) for _ in range(channel._size(queue))]
    assert not declared
    assert sorted(message.headers["argsrepr"] for message in messages) == ["('e1', 'a', True)", "('e1', 'b', True)"]
    assert sorted(message.decode()[0] for message in messages) == [["e1", "a", True], ["e1", "b", True]]
