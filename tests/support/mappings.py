"""Stand-ins for the context's lazy parts in pure engine tests."""

from collections.abc import Mapping


class RecordingMapping(Mapping):
    """A Mapping that is not a dict and records the keys it loaded, like the context's `nodes`."""

    def __init__(self, data):
        self._data = data
        self.loaded = []

    def __getitem__(self, key):
        self.loaded.append(key)
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)
